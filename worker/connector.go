package worker

import (
	"fmt"
	"sync"

	"syncd/connector/outbound"
	"syncd/connector/rest"
	"syncd/domain"
)

// connectors keeps one REST connector per connection version, so its rate
// limit and OAuth2 token outlive a single operation.
type connectors struct {
	opt   outbound.Options
	mu    sync.Mutex
	cache map[string]*rest.Connector // by connection id and version
}

func newConnectors(o outbound.Options) *connectors {
	return &connectors{opt: o, cache: map[string]*rest.Connector{}}
}

func (cs *connectors) get(conn *domain.Connection) (*rest.Connector, error) {
	key := fmt.Sprintf("%s@%d", conn.ID, conn.Version)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.cache[key]; ok {
		return c, nil
	}
	c, err := rest.FromConnection(conn, outbound.New(cs.opt))
	if err != nil {
		return nil, err
	}
	cs.cache[key] = c
	return c, nil
}
