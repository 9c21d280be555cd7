package domain

// Page asks for one page of a keyset-paged list: the items after the cursor
// (an item's id, or a store-specific key), at most Limit of them.
type Page struct {
	After string
	Limit int
}

// The list limits of API.md.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// Normalized fills in the default limit and caps it at the maximum.
func (p Page) Normalized() Page {
	if p.Limit <= 0 {
		p.Limit = DefaultPageLimit
	}
	if p.Limit > MaxPageLimit {
		p.Limit = MaxPageLimit
	}
	return p
}
