package domain

import (
	"maps"
	"slices"
	"testing"
)

func TestSide_Other(t *testing.T) {
	if SideLeft.Other() != SideRight || SideRight.Other() != SideLeft || Side("up").Other() != "" {
		t.Errorf("Other() does not swap left and right")
	}
}

func validSync() Sync {
	return Sync{Name: "ERP ↔ CRM", LeftConnectionID: "c1", RightConnectionID: "c2"}.WithDefaults()
}

func TestSync_WithDefaults(t *testing.T) {
	s := validSync()
	if s.ConflictPolicy.Mode != ConflictManual || s.DeletePolicy != DeleteManual || s.OnError != OnErrorAbort {
		t.Errorf("WithDefaults() = %+v", s)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("a defaulted sync is invalid: %v", err)
	}
}

// problemPaths returns the per-field problem paths of a validation error.
func problemPaths(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	e, ok := err.(*Error)
	if !ok || e.Code != CodeInvalid {
		t.Fatalf("error = %v, want a CodeInvalid *Error", err)
	}
	return slices.Sorted(maps.Keys(e.Fields))
}

func TestSync_Validate(t *testing.T) {
	obj := validObject()
	tests := []struct {
		name    string
		change  func(*Sync)
		objects []Object
		want    []string
	}{
		{name: "valid", change: func(*Sync) {}, objects: []Object{obj}},
		{name: "empty_name", change: func(s *Sync) { s.Name = " " }, want: []string{"name"}},
		{name: "missing_connection", change: func(s *Sync) { s.RightConnectionID = "" }, want: []string{"right_connection_id"}},
		{name: "unknown_mode", change: func(s *Sync) { s.ConflictPolicy.Mode = "sometimes" }, want: []string{"conflict_policy.mode"}},
		{name: "auto_needs_winner", change: func(s *Sync) { s.ConflictPolicy.Mode = ConflictAuto }, want: []string{"conflict_policy.winner"}},
		{name: "auto_with_newest", change: func(s *Sync) { s.ConflictPolicy = ConflictPolicy{Mode: ConflictAuto, Winner: WinnerNewest} }},
		{name: "unknown_delete_policy", change: func(s *Sync) { s.DeletePolicy = "shred" }, want: []string{"delete_policy"}},
		{name: "unknown_on_error", change: func(s *Sync) { s.OnError = "" }, want: []string{"on_error"}},
		{name: "every_and_cron", change: func(s *Sync) { s.Schedule = Schedule{Every: "15m", Cron: "* * * * *"} }, want: []string{"schedule"}},
		{name: "enabled_without_time", change: func(s *Sync) { s.Schedule.Enabled = true }, want: []string{"schedule"}},
		{name: "every_too_short", change: func(s *Sync) { s.Schedule.Every = "10s" }, want: []string{"schedule.every"}},
		{name: "every_not_a_duration", change: func(s *Sync) { s.Schedule.Every = "daily" }, want: []string{"schedule.every"}},
		{name: "duplicate_object", change: func(*Sync) {}, objects: []Object{obj, obj}, want: []string{"objects[1].name"}},
		{name: "object_problem_has_path", change: func(*Sync) {}, objects: []Object{func() Object {
			o := validObject()
			o.Fields[1].Type = "colour"
			return o
		}()}, want: []string{"objects[0].fields[1].type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSync()
			tt.change(&s)
			if got := problemPaths(t, s.Validate(tt.objects...)); !slices.Equal(got, tt.want) {
				t.Errorf("problems = %v, want %v", got, tt.want)
			}
		})
	}
}
