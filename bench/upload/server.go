package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"

	"syncd/bench/syncdproc"
)

// server is a running syncd process with the calls this benchmark makes.
type server struct{ *syncdproc.Process }

// createConnection makes the file connection the uploads go to.
func (s *server) createConnection() (string, error) {
	var c struct {
		ID string `json:"id"`
	}
	err := s.Call("POST", "/v1/connections", map[string]any{
		"name": "ERP export", "kind": "file",
		"config": map[string]any{"objects": map[string]any{"customers": map[string]any{
			"id_column": "Kundennr", "active_column": "Aktiv", "updated_at_column": "Geändert",
		}}},
	}, 201, &c)
	return c.ID, err
}

// createSync pairs the file connection's customers with an empty hosted
// side, matched on the customer number, so every upload is categorised
// (within the upload's request) before it answers.
func (s *server) createSync(fileConn string) error {
	var hosted, sy struct {
		ID string `json:"id"`
	}
	err := s.Call("POST", "/v1/connections", map[string]any{"name": "hub", "kind": "hosted",
		"config": map[string]any{"objects": map[string]any{"customers": map[string]any{}}}}, 201, &hosted)
	if err != nil {
		return err
	}
	return s.Call("POST", "/v1/syncs", map[string]any{
		"name": "customers", "left_connection_id": hosted.ID, "right_connection_id": fileConn,
		"objects": []any{map[string]any{
			"name": "customers", "left_object": "customers", "right_object": "customers",
			"fields": []any{
				map[string]any{"left": "first_name", "right": "Vorname", "type": "string"},
				map[string]any{"left": "last_name", "right": "Nachname", "type": "string"},
				map[string]any{"left": "email", "right": "E-Mail", "type": "email"},
			},
			"match_keys": []any{map[string]any{"left": "email", "right": "E-Mail", "normalize": "email"}},
			"auto_pair":  true,
		}},
	}, 201, &sy)
}

// upload streams the file as a full upload and returns the answer's
// counts once it is 201.
func (s *server) upload(conn, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("object", "customers")
		_ = mw.WriteField("mode", "full")
		part, err := mw.CreateFormFile("file", filepath.Base(path))
		if err == nil {
			_, err = io.Copy(part, f)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", s.Base+"/v1/connections/"+conn+"/uploads", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+s.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 201 {
		return "", fmt.Errorf("upload answered %d: %s", res.StatusCode, body)
	}
	var u struct{ Inserted, Updated, Unchanged, Deleted int }
	_ = json.Unmarshal(body, &u)
	return fmt.Sprintf("+%d ~%d =%d -%d", u.Inserted, u.Updated, u.Unchanged, u.Deleted), nil
}

// psqlCopy loads the file into a plain ten-column table with psql's \copy,
// after a checkpoint as every load of floor, and times the \copy.
func psqlCopy(ctx context.Context, dbURL, path string) (result, error) {
	err := psql(ctx, dbURL, "CREATE TABLE bench_copy (kundennr text, vorname text, nachname text, strasse text, plz text, ort text, email text, telefon text, aktiv text, geaendert text)",
		"CHECKPOINT")
	if err != nil {
		return result{}, err
	}
	return timed("postgres", `psql \copy into a plain table`, func() error {
		return psql(ctx, dbURL, fmt.Sprintf(`\copy bench_copy FROM '%s' WITH (FORMAT csv, DELIMITER ';', HEADER true, ENCODING 'WIN1252')`, path))
	})
}
