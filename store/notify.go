package store

import (
	"context"
	"sync"
	"sync/atomic"

	"syncd/domain"
)

// hooks are the callbacks a Store runs after a change commits. The sync
// engine registers them to reconcile promptly and to wake the operations
// worker; nothing in the store depends on what they do. bulk counts the
// bulk actions under way in this process, for the worker to give way to.
type hooks struct {
	mu             sync.RWMutex
	recordsChanged []func(context.Context, domain.RecordSet)
	opsQueued      []func()
	bulk           atomic.Int32
}

// BulkActing reports whether a bulk action (one of several transactions) is
// under way in this process. The operations worker waits for it: a person
// waits for the action's answer, and its writes are queued behind it anyway.
func (s *Store) BulkActing() bool { return s.hooks.bulk.Load() > 0 }

// OnRecordsChanged registers fn to run after a commit changed records of a
// set. It runs in the writer's goroutine, so the writer's request answers
// once the change is reconciled.
func (s *Store) OnRecordsChanged(fn func(context.Context, domain.RecordSet)) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.recordsChanged = append(s.hooks.recordsChanged, fn)
}

// OnOperationsQueued registers fn to run after operations were queued.
func (s *Store) OnOperationsQueued(fn func()) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.opsQueued = append(s.hooks.opsQueued, fn)
}

// RecordsChanged runs the records-changed hooks; writers call it after their
// transaction committed.
func (s *Store) RecordsChanged(ctx context.Context, set domain.RecordSet) {
	s.hooks.mu.RLock()
	fns := s.hooks.recordsChanged
	s.hooks.mu.RUnlock()
	for _, fn := range fns {
		fn(context.WithoutCancel(ctx), set)
	}
}

// OperationsQueued runs the operations-queued hooks.
func (s *Store) OperationsQueued() {
	s.hooks.mu.RLock()
	fns := s.hooks.opsQueued
	s.hooks.mu.RUnlock()
	for _, fn := range fns {
		fn()
	}
}
