package rest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"syncd/connector/outbound"
	"syncd/domain"
)

// maxRefreshMargin bounds how long before expires_in a token is replaced,
// so a request never sets out with a token about to lapse on its way.
const maxRefreshMargin = 30 * time.Second

// tokenSource fetches OAuth2 client-credentials tokens (RFC 6749 section
// 4.4) and caches one until shortly before it expires. It is safe for
// concurrent use, and concurrent callers that find no valid token share a
// single fetch.
type tokenSource struct {
	client       *outbound.Client
	tokenURL     string
	clientID     string
	clientSecret string
	scopes       []string
	inBody       bool // client_id/client_secret as form fields instead of basic auth
	now          func() time.Time

	// fetching admits one fetch at a time; a channel rather than a mutex so
	// that a waiting caller still honours its context.
	fetching chan struct{}

	mu     sync.Mutex
	token  string
	expiry time.Time // zero: valid until the API rejects it
}

func newTokenSource(client *outbound.Client, auth AuthConfig, cr Credentials) *tokenSource {
	return &tokenSource{
		client:       client,
		tokenURL:     cr.TokenURL,
		clientID:     cr.ClientID,
		clientSecret: cr.ClientSecret,
		scopes:       cr.Scopes,
		inBody:       auth.ClientAuth == ClientAuthBody,
		now:          time.Now,
		fetching:     make(chan struct{}, 1),
	}
}

// get returns a valid access token, fetching one when none is cached.
func (s *tokenSource) get(ctx context.Context) (string, error) {
	if tok := s.cached(); tok != "" {
		return tok, nil
	}
	select {
	case s.fetching <- struct{}{}:
		defer func() { <-s.fetching }()
	case <-ctx.Done():
		return "", domain.Wrap(domain.CodeUnavailable, ctx.Err(), "waiting for an OAuth2 token was abandoned")
	}
	// Another caller may have fetched one while this one waited.
	if tok := s.cached(); tok != "" {
		return tok, nil
	}
	tok, lifetime, err := s.fetch(ctx)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token, s.expiry = tok, time.Time{}
	if lifetime > 0 {
		margin := min(lifetime/5, maxRefreshMargin)
		s.expiry = s.now().Add(lifetime - margin)
	}
	return tok, nil
}

func (s *tokenSource) cached() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == "" || (!s.expiry.IsZero() && !s.now().Before(s.expiry)) {
		return ""
	}
	return s.token
}

// invalidate drops tok after the API rejected it. A token another caller
// already replaced is left alone, so that concurrent 401s cause one fetch.
func (s *tokenSource) invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == tok {
		s.token = ""
	}
}

// tokenResponse is the token endpoint's answer (RFC 6749 section 5.1).
type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
}

func (s *tokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(s.scopes) > 0 {
		form.Set("scope", strings.Join(s.scopes, " "))
	}
	header := http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"},
		"Accept":       {"application/json"},
	}
	if s.inBody {
		form.Set("client_id", s.clientID)
		form.Set("client_secret", s.clientSecret)
	} else {
		// RFC 6749 section 2.3.1: both parts are form-encoded first.
		header.Set("Authorization", "Basic "+basicAuth(url.QueryEscape(s.clientID), url.QueryEscape(s.clientSecret)))
	}
	resp, err := s.client.Do(ctx, outbound.Request{
		Method: http.MethodPost,
		URL:    s.tokenURL,
		Header: header,
		Body:   []byte(form.Encode()),
		// Asking for a token twice does no harm.
		Idempotent: true,
	})
	if err != nil {
		return "", 0, prefixed(err, "fetching an OAuth2 token: ")
	}
	var tr tokenResponse
	if err := json.NewDecoder(bytes.NewReader(resp.Body)).Decode(&tr); err != nil || tr.AccessToken == "" {
		return "", 0, domain.Errorf(domain.CodeUnavailable, "fetching an OAuth2 token: the token endpoint answered without an access_token")
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, domain.Errorf(domain.CodeUnavailable, "fetching an OAuth2 token: token_type %q is not supported; only bearer", tr.TokenType)
	}
	return tr.AccessToken, expiresIn(tr.ExpiresIn), nil
}

// expiresIn reads expires_in, which some servers send as a string.
func expiresIn(raw json.RawMessage) time.Duration {
	s := strings.Trim(string(raw), `" `)
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || secs <= 0 {
		return 0
	}
	return time.Duration(secs * float64(time.Second))
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
