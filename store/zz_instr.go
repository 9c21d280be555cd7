package store

import (
	"fmt"
	"os"
	"sync"
	"time"
)

var phaseMu sync.Mutex
var phases = map[string]time.Duration{}

func phase(name string, t0 time.Time) time.Time {
	now := time.Now()
	phaseMu.Lock()
	phases[name] += now.Sub(t0)
	phaseMu.Unlock()
	return now
}

func dumpPhases() {
	phaseMu.Lock()
	defer phaseMu.Unlock()
	for k, v := range phases {
		fmt.Fprintf(os.Stderr, "PHASE %-14s %v\n", k, v.Round(time.Millisecond))
	}
	phases = map[string]time.Duration{}
}
