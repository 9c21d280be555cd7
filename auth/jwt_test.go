package auth

import (
	"strings"
	"testing"
	"time"

	"syncd/domain"
)

func TestVerifyRemembersOnlyTheExactTokenUntilItExpires(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	tokens := NewTokens(key, time.Minute)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	u := &domain.User{ID: "u1", WorkspaceID: "w1", Role: domain.RoleOperator, Email: "a@example.com"}
	tok, err := tokens.Issue(u, now)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.Principal{WorkspaceID: "w1", UserID: "u1", Role: domain.RoleOperator, Email: "a@example.com"}
	for _, at := range []time.Time{now, now.Add(30 * time.Second)} { // the second from memory
		p, err := tokens.Verify(tok, at)
		if err != nil || p != want {
			t.Fatalf("Verify at %s = %+v, %v; want %+v", at, p, err, want)
		}
	}
	if _, ok := tokens.verified.get(tok, now); !ok {
		t.Fatal("a verified token is not remembered")
	}

	cases := map[string]struct {
		token string
		at    time.Time
		msg   string
	}{
		"expired, though remembered":   {tok, now.Add(time.Minute + 6*time.Second), "access token has expired"},
		"signature changed":            {tok[:len(tok)-2] + flip(tok[len(tok)-2:]), now, "access token is invalid"},
		"not yet valid":                {tok, now.Add(-time.Minute), "access token is invalid"},
		"signed with another key":      {mustIssue(t, NewTokens([]byte(strings.Repeat("x", 32)), time.Minute), u, now), now, "access token is invalid"},
		"payload of another, same sig": {swapPayload(t, tok, mustIssue(t, tokens, &domain.User{ID: "u2", WorkspaceID: "w2", Role: domain.RoleAdmin}, now)), now, "access token is invalid"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := tokens.Verify(c.token, c.at)
			if !domain.IsCode(err, domain.CodeUnauthorized) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Verify = %v; want unauthorized %q", err, c.msg)
			}
		})
	}
}

func TestVerifiedTokensAreBounded(t *testing.T) {
	var v verifiedTokens
	v.m = map[string]verifiedToken{}
	until := time.Now().Add(time.Hour)
	for i := range verifiedMax + 10 {
		v.put(strings.Repeat("t", i+1), verifiedToken{until: until})
	}
	if n := len(v.m); n > verifiedMax {
		t.Fatalf("%d tokens remembered; at most %d", n, verifiedMax)
	}
}

func mustIssue(t *testing.T, tokens *Tokens, u *domain.User, now time.Time) string {
	t.Helper()
	tok, err := tokens.Issue(u, now)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// flip changes the characters of s, keeping them base64url.
func flip(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

// swapPayload puts other's claims between tok's header and signature.
func swapPayload(t *testing.T, tok, other string) string {
	t.Helper()
	a, b := strings.Split(tok, "."), strings.Split(other, ".")
	if len(a) != 3 || len(b) != 3 {
		t.Fatal("not a JWT")
	}
	return a[0] + "." + b[1] + "." + a[2]
}
