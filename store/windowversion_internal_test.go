package store

import "testing"

func TestWindowVersionsMoveWhenChangesMayHaveBeenMissed(t *testing.T) {
	v := newWindowVersions()
	if _, ok := v.version("a"); ok {
		t.Fatal("numbers are not known before anyone listens")
	}
	v.setLive(true)
	a, ok := v.version("a")
	b, _ := v.version("b")
	if !ok {
		t.Fatal("numbers are known while listening")
	}
	v.bump("a")
	if a2, _ := v.version("a"); a2 <= a {
		t.Fatalf("a bump left a at %d", a2)
	}
	if b2, _ := v.version("b"); b2 != b {
		t.Fatalf("a bump of a moved b from %d to %d", b, b2)
	}
	a, _ = v.version("a")
	// The connection drops: changes of other replicas may be missed from
	// now on, and every number moves, so nothing read before is served.
	v.setLive(false)
	if _, ok := v.version("a"); ok {
		t.Fatal("numbers are known while not listening")
	}
	v.setLive(true)
	a3, ok := v.version("a")
	b3, _ := v.version("b")
	if !ok || a3 <= a || b3 <= b {
		t.Fatalf("after listening again: a %d→%d, b %d→%d, known %v; every number must move", a, a3, b, b3, ok)
	}
}
