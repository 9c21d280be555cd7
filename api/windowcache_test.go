package api

import (
	"strings"
	"testing"
)

func TestWindowCacheKeepsTheNewestAnswersWithinItsBytes(t *testing.T) {
	body := func(c byte) []byte { return []byte(strings.Repeat(string(c), 100)) }
	c := newWindowCache(900) // room for eight answers of 101 bytes, none above 112
	if got, ok := c.get("a", 1); ok {
		t.Fatalf("empty cache answered %v", got)
	}
	c.put("a", 1, &cachedAnswer{body: body('a')})
	if got, ok := c.get("a", 1); !ok || string(got.body) != string(body('a')) {
		t.Fatalf("get a@1 = %v, %v", got, ok)
	}
	if _, ok := c.get("a", 2); ok {
		t.Fatal("an answer read at another version was served")
	}
	if _, ok := c.get("a", 1); ok {
		t.Fatal("a retired answer came back")
	}

	c.put("b", 5, &cachedAnswer{body: body('b')})
	c.put("b", 4, &cachedAnswer{body: body('x')}) // an older read finishing late
	if got, ok := c.get("b", 5); !ok || string(got.body) != string(body('b')) {
		t.Fatalf("an older read replaced a newer one: %v", got)
	}

	for _, k := range "cdefghij" {
		c.get("b", 5) // b stays the most recently used
		c.put(string(k), 5, &cachedAnswer{body: body(byte(k))})
	}
	if c.size > c.max {
		t.Fatalf("holds %d bytes, more than %d", c.size, c.max)
	}
	if _, ok := c.get("b", 5); !ok {
		t.Fatal("the most recently used answer was dropped")
	}
	if _, ok := c.get("c", 5); ok {
		t.Fatal("the least recently used answer was kept past the limit")
	}
	c.put("huge", 5, &cachedAnswer{body: []byte(strings.Repeat("h", 200))})
	if _, ok := c.get("huge", 5); ok {
		t.Fatal("an answer of more than an eighth of the cache was kept")
	}
	if newWindowCache(0) != nil {
		t.Fatal("a cache of 0 bytes must be none")
	}
}

func TestNoneMatch(t *testing.T) {
	etag := contentETag([]byte(`{"data":[]}`))
	cases := []struct {
		header string
		want   bool
	}{
		{"", false},
		{etag, true},
		{"W/" + etag, true},
		{`"other", ` + etag, true},
		{`"other"`, false},
		{"*", true},
		{etag[:len(etag)-2] + `"`, false},
	}
	for _, c := range cases {
		if got := noneMatch(c.header, etag); got != c.want {
			t.Errorf("noneMatch(%q, %q) = %v, want %v", c.header, etag, got, c.want)
		}
	}
	if contentETag([]byte("a")) == contentETag([]byte("b")) {
		t.Error("two answers share an ETag")
	}
}
