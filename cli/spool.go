package cli

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// prepareSpool creates the upload spool folder under the data folder and
// empties it. Files there live only while an upload is read, so whatever is
// left at start-up was orphaned by a crash. The folder belongs to this
// process: replicas need data folders of their own.
func prepareSpool(dataDir string, log *slog.Logger) (string, error) {
	dir, err := filepath.Abs(filepath.Join(dataDir, "spool"))
	if err != nil {
		return "", fmt.Errorf("upload spool: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("upload spool: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("upload spool: %w", err)
	}
	removed := 0
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			log.Warn("cannot remove an orphaned upload file", "path", filepath.Join(dir, e.Name()), "error", err)
			continue
		}
		removed++
	}
	if removed > 0 {
		log.Info("removed orphaned upload files", "spool", dir, "count", removed)
	}
	return dir, nil
}
