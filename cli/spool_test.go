package cli

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPrepareSpool(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	data := t.TempDir()

	t.Run("creates_the_folder", func(t *testing.T) {
		dir, err := prepareSpool(data, log)
		require.NoError(t, err)
		require.Equal(t, filepath.Join(data, "spool"), dir)
		info, err := os.Stat(dir)
		require.NoError(t, err)
		require.True(t, info.IsDir())
	})
	t.Run("removes_orphans_of_a_crash", func(t *testing.T) {
		dir := filepath.Join(data, "spool")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "syncd-upload-123.xlsx"), []byte("PK"), 0o600))
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "excelize-456"), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "excelize-456", "sheet1.xml"), []byte("<x/>"), 0o600))
		_, err := prepareSpool(data, log)
		require.NoError(t, err)
		left, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Empty(t, left)
	})
}
