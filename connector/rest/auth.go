package rest

import (
	"context"
	"net/url"

	"syncd/connector/outbound"
	"syncd/domain"
)

// Credentials are a rest connection's secrets, as clients send them in the
// connection's "credentials" member. Which fields are needed depends on
// AuthConfig.Type. The secret ones (api_key, token, password,
// client_secret, and every access token fetched with them) are redacted
// from every error; username and client_id are identifiers and are kept,
// because masking a short user name would mangle every message.
type Credentials struct {
	APIKey       string   `json:"api_key,omitempty"`
	Token        string   `json:"token,omitempty"`
	Username     string   `json:"username,omitempty"`
	Password     string   `json:"password,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret string   `json:"client_secret,omitempty"`
	TokenURL     string   `json:"token_url,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
}

// Validate checks that cr holds what the auth type needs. It returns a
// domain.Invalid error keyed by "credentials.<field>".
func (cr Credentials) Validate(auth AuthConfig) error {
	p := problems{}
	need := func(field, value string) {
		if value == "" {
			p.add("credentials."+field, "is required for auth type "+auth.Type)
		}
	}
	switch auth.Type {
	case AuthAPIKey:
		need("api_key", cr.APIKey)
	case AuthBearer:
		need("token", cr.Token)
	case AuthBasic:
		need("username", cr.Username)
	case AuthOAuth2:
		need("client_id", cr.ClientID)
		need("client_secret", cr.ClientSecret)
		need("token_url", cr.TokenURL)
		if u, err := url.Parse(cr.TokenURL); cr.TokenURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			p.add("credentials.token_url", "must be an http:// or https:// URL")
		}
	}
	if len(p) > 0 {
		return domain.Invalid("the rest connection's credentials are incomplete", p)
	}
	return nil
}

// secrets lists the values that must never be shown.
func (cr Credentials) secrets() []string {
	return []string{cr.APIKey, cr.Token, cr.Password, cr.ClientSecret}
}

// authorize adds the credentials to r and returns the access token it used
// ("" unless OAuth2), so that a 401 can invalidate exactly that token.
func (c *Connector) authorize(ctx context.Context, r *outbound.Request) (string, error) {
	switch c.cfg.Auth.Type {
	case AuthAPIKey:
		if c.cfg.Auth.In == AuthInQuery {
			u, err := url.Parse(r.URL)
			if err != nil {
				return "", domain.Wrap(domain.CodeInvalid, err, "the request URL is not valid")
			}
			q := u.Query()
			q.Set(c.cfg.Auth.Name, c.creds.APIKey)
			u.RawQuery = q.Encode()
			r.URL = u.String()
		} else {
			r.Header.Set(c.cfg.Auth.Name, c.creds.APIKey)
		}
	case AuthBearer:
		r.Header.Set("Authorization", "Bearer "+c.creds.Token)
	case AuthBasic:
		r.Header.Set("Authorization", "Basic "+basicAuth(c.creds.Username, c.creds.Password))
	case AuthOAuth2:
		tok, err := c.tokens.get(ctx)
		if err != nil {
			return "", err
		}
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Redact = append(r.Redact, tok)
		return tok, nil
	}
	return "", nil
}
