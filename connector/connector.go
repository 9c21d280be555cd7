// Package connector reads a connection's config and credentials by its
// kind and builds what reaches its system: a rest connection's config is a
// rest.Config, a file connection's a file.Config, a hosted connection's a
// hosted.Config. It is the one place that knows which kind uses which.
package connector

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"sort"

	"syncd/connector/file"
	"syncd/connector/hosted"
	"syncd/connector/outbound"
	"syncd/connector/rest"
	"syncd/domain"
)

// ParseConfig decodes a kind's config strictly, validates it and returns
// it re-encoded (so stored configs have one form). Errors: CodeInvalid, with
// Fields keyed by path from the request body ("config.objects.x.id_column").
func ParseConfig(kind domain.ConnectionKind, raw []byte) ([]byte, error) {
	var cfg interface{ Validate() error }
	switch kind {
	case domain.KindFile:
		cfg = &file.Config{}
	case domain.KindREST:
		cfg = &rest.Config{}
	case domain.KindHosted:
		cfg = &hosted.Config{}
	default:
		return nil, domain.Invalid("unknown connection kind", map[string]string{"kind": "must be file, rest or hosted"})
	}
	if err := decodeStrict(raw, cfg, "config"); err != nil {
		return nil, err
	}
	if err := mergeInvalid(checkObjectNames(raw), prefixFields(cfg.Validate(), "config.")); err != nil {
		return nil, err
	}
	return json.Marshal(cfg)
}

// objectName is what an object may be called: the URL paths that name an
// object accept these names.
var objectName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

// checkObjectNames checks the names of a config's objects.
func checkObjectNames(raw []byte) error {
	var cfg struct {
		Objects map[string]json.RawMessage `json:"objects"`
	}
	_ = json.Unmarshal(raw, &cfg) // decodeStrict has read it already
	fields := map[string]string{}
	for name := range cfg.Objects {
		if !objectName.MatchString(name) {
			fields["config.objects."+name] = "object names are 1 to 100 letters, digits, _, . or -"
		}
	}
	if len(fields) > 0 {
		return domain.Invalid("an object name is not allowed", fields)
	}
	return nil
}

// ParseCredentials decodes the credentials of a connection whose config
// has passed ParseConfig and checks they are what its authentication
// needs. It returns them re-encoded without empty fields, or nil when there
// are none. Only rest connections take credentials.
// Errors: CodeInvalid, with Fields keyed "credentials.<field>".
func ParseCredentials(kind domain.ConnectionKind, config, raw []byte) ([]byte, error) {
	empty := len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("{}")) || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
	if kind != domain.KindREST {
		if !empty {
			return nil, domain.Invalid("this kind of connection takes no credentials",
				map[string]string{"credentials": string(kind) + " connections take no credentials"})
		}
		return nil, nil
	}
	var cfg rest.Config
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, domain.Wrap(domain.CodeInternal, err, "stored config cannot be read")
	}
	var creds rest.Credentials
	if !empty {
		if err := decodeStrict(raw, &creds, "credentials"); err != nil {
			return nil, err
		}
	}
	if err := creds.Validate(cfg.Auth); err != nil {
		return nil, err
	}
	out, err := json.Marshal(creds)
	if err != nil || string(out) == "{}" {
		return nil, err
	}
	return out, nil
}

// objects lists the objects a connection's config names, sorted.
// Errors: CodeInternal when the stored config cannot be read.
func objects(c *domain.Connection) ([]string, error) {
	var cfg struct {
		Objects map[string]json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(c.Config, &cfg); err != nil {
		return nil, domain.Wrap(domain.CodeInternal, err, "stored config cannot be read")
	}
	names := make([]string, 0, len(cfg.Objects))
	for n := range cfg.Objects {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// HasObject checks that the connection's config names object.
// Errors: CodeNotFound naming the objects it has.
func HasObject(c *domain.Connection, object string) error {
	names, err := objects(c)
	if err != nil {
		return err
	}
	if !slices.Contains(names, object) {
		return domain.Errorf(domain.CodeNotFound, "connection %q has no object %q; its objects are %v", c.Name, object, names)
	}
	return nil
}

// Remote builds the connector that reaches a rest connection's API,
// sending every request through client (which should serve this
// connection alone). Errors: CodeConflict for file and hosted connections,
// which have no remote system; CodeInvalid for a config or credentials that
// no longer validate.
func Remote(c *domain.Connection, client *outbound.Client) (domain.Connector, error) {
	if c.Kind != domain.KindREST {
		return nil, domain.Errorf(domain.CodeConflict, "connection %q is a %s connection, which has no remote system to call; %s", c.Name, c.Kind, noRemote(c.Kind))
	}
	return rest.FromConnection(c, client)
}

// noRemote says where a kind's records come from instead.
func noRemote(kind domain.ConnectionKind) string {
	if kind == domain.KindFile {
		return "its records arrive as uploads"
	}
	return "clients write its records through the API"
}

// decodeStrict decodes one JSON object into v, refusing unknown fields.
func decodeStrict(raw []byte, v any, at string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		// te.Field leaves out map keys (object names), so it is told, not
		// used as the key.
		return domain.Invalid("the "+at+" has a value of the wrong type",
			map[string]string{at: te.Field + " must be " + jsonType(te.Type.Kind().String())})
	}
	return &domain.Error{Code: domain.CodeInvalid, Message: "the " + at + " cannot be read",
		Fields: map[string]string{at: err.Error()}, Err: err}
}

// jsonType names a Go kind the way a JSON client thinks of it.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	return "a number"
}

// mergeInvalid joins the fields of Invalid errors into one; any other
// error wins as it is.
func mergeInvalid(errs ...error) error {
	var out *domain.Error
	for _, err := range errs {
		var de *domain.Error
		switch {
		case err == nil:
			continue
		case !errors.As(err, &de) || de.Code != domain.CodeInvalid:
			return err
		case out == nil:
			out = &domain.Error{Code: domain.CodeInvalid, Message: de.Message, Fields: map[string]string{}}
		}
		for k, v := range de.Fields {
			out.Fields[k] = v
		}
	}
	if out == nil {
		return nil
	}
	return out
}

// prefixFields puts prefix before every field path of an Invalid error.
func prefixFields(err error, prefix string) error {
	var de *domain.Error
	if !errors.As(err, &de) || len(de.Fields) == 0 {
		return err
	}
	out := *de
	out.Fields = make(map[string]string, len(de.Fields))
	for k, v := range de.Fields {
		out.Fields[prefix+k] = v
	}
	return &out
}
