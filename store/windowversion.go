package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// windowChannel is the PostgreSQL notification channel on which replicas
// announce that a workspace's window changed; the payload is its id.
const windowChannel = "syncd_window"

// windowVersions numbers the changes to each workspace's window: its items,
// their records, its syncs and objects. A reader that keeps what it read
// under the number it saw before reading knows it still holds when the
// number has not moved. This process's writers move it after they commit;
// on PostgreSQL every replica announces its commits to the others (NOTIFY
// in the writing transaction, delivered when it commits), and a replica
// that is not listening does not know its numbers.
type windowVersions struct {
	mu    sync.RWMutex
	last  uint64            // the last number handed out
	floor uint64            // every workspace's number is at least this
	byWS  map[string]uint64 // the number of each workspace's last change
	live  bool              // false while changes of other replicas could be missed

	// listen starts hearing the other replicas (PostgreSQL only), once.
	listen sync.Once
	stop   context.CancelFunc
	done   chan struct{}
	// unlock releases a SQLite database's server lock (see ServeAlone).
	unlock func()
}

// maxTrackedWorkspaces bounds the numbers kept one by one.
const maxTrackedWorkspaces = 100_000

func newWindowVersions() *windowVersions {
	return &windowVersions{byWS: map[string]uint64{}, stop: func() {}, unlock: func() {}}
}

// version is the workspace's number and whether it can be trusted.
func (v *windowVersions) version(workspaceID string) (uint64, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return max(v.byWS[workspaceID], v.floor), v.live
}

// listening reports whether the numbers can be trusted.
func (v *windowVersions) listening() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.live
}

// bump moves the workspaces' numbers.
func (v *windowVersions) bump(workspaceIDs ...string) {
	if len(workspaceIDs) == 0 {
		return
	}
	v.mu.Lock()
	v.last++
	if len(v.byWS) >= maxTrackedWorkspaces {
		// Moving every number forgets nothing a reader relies on.
		v.floor = v.last
		clear(v.byWS)
	}
	for _, ws := range workspaceIDs {
		v.byWS[ws] = v.last
	}
	v.mu.Unlock()
}

// setLive says whether other replicas' changes are heard. Either way every
// number moves: changes may have been missed while not listening.
func (v *windowVersions) setLive(live bool) {
	v.mu.Lock()
	v.last++
	v.floor = v.last
	clear(v.byWS)
	v.live = live
	v.mu.Unlock()
}

// close stops listening, if it started, and gives up the server lock.
func (v *windowVersions) close() {
	v.listen.Do(func() {}) // no listening starts after this
	v.stop()
	if v.done != nil {
		<-v.done
	}
	v.unlock()
}

// hear keeps a connection listening on the window channel until ctx ends,
// reconnecting after a failure, at first after a second, then waiting
// longer each time up to half a minute (a pooler that cannot LISTEN fails
// every time; the windows are then read anew each time).
func (v *windowVersions) hear(ctx context.Context, url string) {
	defer close(v.done)
	wait := time.Second
	for ctx.Err() == nil {
		heard := v.hearOnce(ctx, url)
		v.setLive(false)
		if heard {
			wait = time.Second
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// hearOnce listens on one connection until it fails and reports whether
// it got as far as listening.
func (v *windowVersions) hearOnce(ctx context.Context, url string) bool {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+windowChannel); err != nil {
		return false
	}
	v.setLive(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true
		}
		v.bump(n.Payload)
	}
}

// ErrAnotherServer is ServeAlone's answer when another process serves the
// SQLite database.
var ErrAnotherServer = errors.New("another syncd server uses this SQLite database; run one server per SQLite file, or PostgreSQL for several")

// ServeAlone makes this process the one server of a SQLite database, which
// is what lets it know every change to the windows it serves: only its own
// writers change them. Another server already running on the file is
// ErrAnotherServer. On PostgreSQL the replicas hear each other's changes,
// and it does nothing. Until it is called, a SQLite Store does not know its
// window versions.
func (s *Store) ServeAlone() error {
	if s.versions.listening() || s.dialect != DialectSQLite {
		return nil
	}
	if s.path != ":memory:" {
		unlock, err := tryLockFile(s.path + ".server.lock")
		if errors.Is(err, errLocked) {
			return ErrAnotherServer
		}
		if err != nil {
			return fmt.Errorf("take the server lock: %w", err)
		}
		s.versions.unlock = unlock
	}
	s.versions.setLive(true)
	return nil
}

// WindowVersion numbers the changes to a workspace's window (items, records,
// syncs, objects) as this process knows them; ok is false while it cannot
// know another replica's changes. A read made after taking the number holds
// as long as the number stays. On PostgreSQL the first call starts
// listening to the other replicas, so it answers false until that is set up.
func (s *Store) WindowVersion(workspaceID string) (uint64, bool) {
	v := s.versions
	if s.dialect == DialectPostgres {
		v.listen.Do(func() {
			ctx, cancel := context.WithCancel(context.Background())
			v.stop, v.done = cancel, make(chan struct{})
			go v.hear(ctx, s.url)
		})
	}
	return v.version(workspaceID)
}

// windowChanged records that the transaction of this Store changed the
// workspace's window: the number moves once it commits, and on PostgreSQL
// the other replicas hear of it by the same commit. Every writer of the
// window writes in a transaction; outside one, the number moves at once
// and no other replica hears of it.
func (s *Store) windowChanged(workspaceID string) {
	if !s.inTx() {
		s.versions.bump(workspaceID)
		return
	}
	*s.changed = append(*s.changed, workspaceID)
}

// announce tells the other replicas, inside the transaction, which
// workspaces it changed; NOTIFY is delivered only if it commits.
func announce(tx *gorm.DB, workspaceIDs []string) error {
	if tx.Dialector.Name() != DialectPostgres {
		return nil
	}
	for _, ws := range slices.Compact(slices.Sorted(slices.Values(workspaceIDs))) {
		if err := tx.Exec("SELECT pg_notify(?, ?)", windowChannel, ws).Error; err != nil {
			return err
		}
	}
	return nil
}
