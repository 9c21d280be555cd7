package rest

import (
	"bytes"
	"encoding/json"

	"syncd/connector/outbound"
	"syncd/domain"
)

// FromConnection builds the connector of a stored rest connection: its
// config and decrypted credentials are JSON documents of Config and
// Credentials. Errors: CodeInvalid when they do not decode or validate.
func FromConnection(conn *domain.Connection, client *outbound.Client) (*Connector, error) {
	if conn.Kind != domain.KindREST {
		return nil, domain.Errorf(domain.CodeConflict, "connection %s is a %s connection, not rest", conn.Name, conn.Kind)
	}
	var cfg Config
	if err := decodeStrict(conn.Config, &cfg); err != nil {
		return nil, domain.Wrap(domain.CodeInvalid, err, "the connection's config is not a rest config")
	}
	var creds Credentials
	if len(conn.Credentials) > 0 {
		if err := decodeStrict(conn.Credentials, &creds); err != nil {
			// The cause may quote a credential; it is logged, never shown.
			return nil, domain.Wrap(domain.CodeInvalid, err, "the connection's credentials do not fit its auth type")
		}
	}
	return New(cfg, creds, client)
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// ActiveField names the object's active field, the one an activate
// operation sets. Errors: CodeNotFound for an unknown object; CodeConflict
// when the object has no active field.
func (c *Connector) ActiveField(object string) (string, error) {
	o, err := c.object(object)
	if err != nil {
		return "", err
	}
	if o.ActiveField == "" {
		return "", domain.Errorf(domain.CodeConflict, "object %s has no active_field configured, so records cannot be activated", object)
	}
	return o.ActiveField, nil
}
