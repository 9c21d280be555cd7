package rest

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"syncd/domain"
)

func TestConfig_decodes_the_documented_json(t *testing.T) {
	raw := `{
	  "base_url": "https://crm.example.com/api",
	  "auth": {"type": "api_key", "in": "query", "name": "key"},
	  "probe": {"method": "GET", "path": "/me"},
	  "objects": {"customers": {
	    "list_path": "/customers", "records_path": "data.items", "id_field": "uid",
	    "updated_at_field": "modified", "active_field": "status", "deleted_field": "deleted_at",
	    "pagination": {"type": "page", "page_param": "p", "size_param": "n", "size": 50, "start": 0},
	    "updated_since_param": "since", "updated_since_format": "unix",
	    "create": {"method": "POST", "path": "/customers"},
	    "update": {"method": "PUT", "path": "/customers/{id}"},
	    "delete": {"method": "DELETE", "path": "/customers/{id}"},
	    "create_id_path": "data.uid", "body_path": "customer"
	  }}
	}`
	var cfg Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	o := cfg.Objects["customers"].withDefaults()
	if o.Pagination.Start == nil || *o.Pagination.Start != 0 || o.Pagination.Size != 50 || o.IDField != "uid" ||
		o.Update.Method != "PUT" || o.BodyPath != "customer" || cfg.Auth.Name != "key" {
		t.Errorf("decoded %+v", o)
	}
}

func TestConfig_Validate_names_the_field(t *testing.T) {
	valid := func() Config {
		return Config{
			BaseURL: "https://crm.example.com",
			Objects: map[string]ObjectConfig{"customers": {ListPath: "/customers"}},
		}
	}
	obj := func(edit func(*ObjectConfig)) func(*Config) {
		return func(c *Config) {
			o := c.Objects["customers"]
			edit(&o)
			c.Objects["customers"] = o
		}
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"valid", func(*Config) {}, nil},
		{"base_url_missing", func(c *Config) { c.BaseURL = "" }, []string{"base_url"}},
		{"base_url_not_http", func(c *Config) { c.BaseURL = "ftp://crm.example.com" }, []string{"base_url"}},
		{"base_url_with_password", func(c *Config) { c.BaseURL = "https://u:p@crm.example.com" }, []string{"base_url"}},
		{"auth_type", func(c *Config) { c.Auth.Type = "digest" }, []string{"auth.type"}},
		{"api_key_in", func(c *Config) { c.Auth = AuthConfig{Type: AuthAPIKey, In: "cookie"} }, []string{"auth.in"}},
		{"client_auth", func(c *Config) { c.Auth = AuthConfig{Type: AuthOAuth2, ClientAuth: "jwt"} }, []string{"auth.client_auth"}},
		{"no_objects", func(c *Config) { c.Objects = nil }, []string{"objects"}},
		{"list_path", obj(func(o *ObjectConfig) { o.ListPath = "" }), []string{"objects.customers.list_path"}},
		{"list_path_is_a_url", obj(func(o *ObjectConfig) { o.ListPath = "https://evil.example.com/x" }), []string{"objects.customers.list_path"}},
		{"pagination_type", obj(func(o *ObjectConfig) { o.Pagination.Type = "pages" }), []string{"objects.customers.pagination.type"}},
		{"cursor_without_path", obj(func(o *ObjectConfig) { o.Pagination.Type = PageCursor }), []string{"objects.customers.pagination.cursor_path"}},
		{"size_without_param", obj(func(o *ObjectConfig) { o.Pagination = Pagination{Type: PageNumber, Size: 10} }), []string{"objects.customers.pagination.size_param"}},
		{"since_format", obj(func(o *ObjectConfig) { o.UpdatedSinceParam, o.UpdatedSinceFormat = "since", "yesterday" }), []string{"objects.customers.updated_since_format"}},
		{"update_without_id", obj(func(o *ObjectConfig) { o.Update = &Endpoint{Path: "/customers"} }), []string{"objects.customers.update.path"}},
		{"delete_method", obj(func(o *ObjectConfig) { o.Delete = &Endpoint{Method: "PURGE"} }), []string{"objects.customers.delete.method"}},
		{"probe_path", func(c *Config) { c.Probe = &Endpoint{Method: "GET"} }, []string{"probe.path"}},
		{"header_with_newline", func(c *Config) { c.Headers = map[string]string{"X-V": "1\r\nX-Evil: 1"} }, []string{"headers.X-V"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid()
			tc.edit(&cfg)
			err := cfg.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			de := requireCode(t, err, domain.CodeInvalid)
			if got := slices.Sorted(maps.Keys(de.Fields)); !slices.Equal(got, tc.want) {
				t.Errorf("fields = %v, want %v", de.Fields, tc.want)
			}
		})
	}
}

func TestCredentials_Validate(t *testing.T) {
	for _, tc := range []struct {
		auth  string
		creds Credentials
		want  []string
	}{
		{AuthNone, Credentials{}, nil},
		{AuthAPIKey, Credentials{}, []string{"credentials.api_key"}},
		{AuthBearer, Credentials{}, []string{"credentials.token"}},
		{AuthBasic, Credentials{Password: "x"}, []string{"credentials.username"}},
		{AuthOAuth2, Credentials{ClientID: "id", ClientSecret: "s", TokenURL: "ftp://x"}, []string{"credentials.token_url"}},
		{AuthOAuth2, Credentials{}, []string{"credentials.client_id", "credentials.client_secret", "credentials.token_url"}},
	} {
		err := tc.creds.Validate(AuthConfig{Type: tc.auth})
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.auth, err)
			}
			continue
		}
		var got []string
		if de, ok := err.(*domain.Error); ok {
			got = slices.Sorted(maps.Keys(de.Fields))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: fields %v, want %v", tc.auth, got, tc.want)
		}
	}
}
