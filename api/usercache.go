package api

import (
	"sync"
	"time"

	"syncd/domain"
)

// userCache remembers, for a second, the role and email of users whose
// access tokens were just checked, so a busy client does not cost a user
// lookup per request. This process forgets a user the moment it changes or
// removes one; another replica may act on the old role for up to a second.
type userCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	entries map[string]cachedUser
}

type cachedUser struct {
	role    domain.Role
	email   string
	expires time.Time
}

// userCacheMax bounds the cache; past it, it starts over.
const userCacheMax = 10_000

func newUserCache(ttl time.Duration) *userCache {
	return &userCache{ttl: ttl, entries: map[string]cachedUser{}}
}

func (c *userCache) get(id string, now time.Time) (cachedUser, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.entries[id]
	return u, ok && now.Before(u.expires)
}

func (c *userCache) put(u *domain.User, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= userCacheMax {
		clear(c.entries)
	}
	c.entries[u.ID] = cachedUser{role: u.Role, email: u.Email, expires: now.Add(c.ttl)}
}

// forget drops a user after a change, so the next request reads it again.
func (c *userCache) forget(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}
