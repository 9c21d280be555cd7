package api

import (
	"container/list"
	"encoding/json"
	"fmt"
	"hash/crc64"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// windowCache keeps encoded window pages and summaries, each under the
// window version of its workspace taken before it was read (see
// domain.ItemStore.WindowVersion). Any change to the workspace's window
// moves the version, so an answer is served again only while nothing it
// shows can have changed. It holds at most max bytes of answers, dropping
// the least recently used first.
type windowCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	order *list.List // of *cachedAnswer, the most recently used first
	byKey map[string]*list.Element
}

type cachedAnswer struct {
	key     string
	version uint64
	body    []byte
	etag    string
}

// newWindowCache returns a cache of up to max bytes, or nil (no cache)
// when max is not positive.
func newWindowCache(max int64) *windowCache {
	if max <= 0 {
		return nil
	}
	return &windowCache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *windowCache) get(key string, version uint64) (*cachedAnswer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	a := e.Value.(*cachedAnswer)
	if a.version != version {
		c.remove(e)
		return nil, false
	}
	c.order.MoveToFront(e)
	return a, true
}

func (c *windowCache) put(key string, version uint64, a *cachedAnswer) {
	a.key, a.version = key, version
	n := int64(len(key) + len(a.body))
	if n > c.max/8 { // one huge page must not empty the cache
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		if e.Value.(*cachedAnswer).version > version {
			return // a newer read got here first
		}
		c.remove(e)
	}
	c.byKey[key] = c.order.PushFront(a)
	c.size += n
	for c.size > c.max {
		c.remove(c.order.Back())
	}
}

func (c *windowCache) remove(e *list.Element) {
	a := c.order.Remove(e).(*cachedAnswer)
	delete(c.byKey, a.key)
	c.size -= int64(len(a.key) + len(a.body))
}

// cachedJSON answers 200 with read's result encoded, from the cache while
// the caller's workspace's window has not changed since it was read, or
// 304 when the request's If-None-Match names the answer's ETag. key names
// the answer within the workspace; its parts are quoted, so no two
// requests share one.
func (h *windowHandlers) cachedJSON(c echo.Context, read func() (any, error), key ...string) error {
	ws := principal(c).WorkspaceID
	version, known := h.store.WindowVersion(ws) // before reading: a change after it retires the answer
	var k []byte
	if known && h.cache != nil {
		k = strconv.AppendQuote(k, ws)
		for _, part := range key {
			k = strconv.AppendQuote(k, part)
		}
		if a, ok := h.cache.get(string(k), version); ok {
			return a.send(c)
		}
	}
	out, err := read()
	if err != nil {
		return err
	}
	body, err := json.Marshal(out)
	if err != nil {
		return err
	}
	a := &cachedAnswer{body: body, etag: contentETag(body)}
	if k != nil {
		h.cache.put(string(k), version, a)
	}
	return a.send(c)
}

// send answers with the answer, or 304 when the client holds it already.
func (a *cachedAnswer) send(c echo.Context) error {
	c.Response().Header().Set("ETag", a.etag)
	if noneMatch(c.Request().Header.Get("If-None-Match"), a.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	// With its length known the answer goes out in one piece, not chunked.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(a.body)))
	return c.JSONBlob(http.StatusOK, a.body)
}

// contentETag is a strong ETag of an encoded answer. It depends on the bytes
// alone, so every replica gives one answer the same tag.
func contentETag(body []byte) string {
	return fmt.Sprintf(`"w-%016x"`, crc64.Checksum(body, crcTable))
}

var crcTable = crc64.MakeTable(crc64.ECMA)

// noneMatch reports whether an If-None-Match header names etag, comparing
// weakly as RFC 9110 asks (a W/ prefix does not matter), or is "*".
func noneMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == etag || tag == "*" {
			return true
		}
	}
	return false
}
