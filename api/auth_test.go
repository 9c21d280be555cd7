package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"syncd/api"
	"syncd/auth"
	"syncd/domain"
)

func TestLogin(t *testing.T) {
	ts := newServer(t)
	t.Run("wrong_password_is_401", func(t *testing.T) {
		ts.do("POST", "/v1/auth/login", "", map[string]string{"email": ts.Admin.Email, "password": "nope"}).problem(401)
	})
	t.Run("unknown_email_is_the_same_401", func(t *testing.T) {
		p := ts.do("POST", "/v1/auth/login", "", map[string]string{"email": "ghost@example.com", "password": "nope"}).problem(401)
		require.Equal(t, "email or password is wrong", p["detail"])
	})
	t.Run("email_is_case_insensitive", func(t *testing.T) {
		r := ts.do("POST", "/v1/auth/login", "", map[string]string{"email": " ADMIN@example.com ", "password": ts.Admin.Password})
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	})
	t.Run("missing_field_is_422_naming_it", func(t *testing.T) {
		p := ts.do("POST", "/v1/auth/login", "", map[string]string{"email": ts.Admin.Email}).problem(422)
		require.Contains(t, p["errors"], "password")
	})
	t.Run("repeated_failures_are_slowed_down", func(t *testing.T) {
		ts := newServer(t)
		var last *response
		for range 7 {
			last = ts.do("POST", "/v1/auth/login", "", map[string]string{"email": ts.Admin.Email, "password": "wrong-wrong"})
		}
		last.problem(429)
		require.NotEmpty(t, last.Header.Get("Retry-After"))
		// Even the right password waits now: the attempt is not even checked.
		ts.do("POST", "/v1/auth/login", "", map[string]string{"email": ts.Admin.Email, "password": ts.Admin.Password}).problem(429)
	})
	t.Run("every_replica_sees_the_failures", func(t *testing.T) {
		ts := newServer(t)
		e, err := api.NewServer(ts.deps) // a second server on the same database
		require.NoError(t, err)
		hs := httptest.NewServer(e)
		t.Cleanup(hs.Close)
		replica := *ts
		replica.URL = hs.URL
		for i := range 6 {
			on := ts
			if i%2 == 1 {
				on = &replica
			}
			on.do("POST", "/v1/auth/login", "", map[string]string{"email": ts.Admin.Email, "password": "wrong-wrong"}).problem(401)
		}
		replica.do("POST", "/v1/auth/login", "", map[string]string{"email": ts.Admin.Email, "password": ts.Admin.Password}).problem(429)
		ts.do("POST", "/v1/auth/login", "", map[string]string{"email": ts.Admin.Email, "password": ts.Admin.Password}).problem(429)
		other := ts.do("POST", "/v1/auth/login", "", map[string]string{"email": "someone@example.com", "password": "x"})
		require.Equal(t, 401, other.Status, "another email from the address is still checked")
	})
	t.Run("the_store_keeps_no_email_or_address", func(t *testing.T) {
		ts := newServer(t)
		ts.do("POST", "/v1/auth/login", "", map[string]string{"email": "typed-a-password@example.com", "password": "x"}).problem(401)
		rows, err := ts.Store.SQL().Query("SELECT login_key FROM login_failures")
		require.NoError(t, err)
		defer rows.Close()
		n := 0
		for rows.Next() {
			var k string
			require.NoError(t, rows.Scan(&k))
			require.Regexp(t, "^[0-9a-f]{64}$", k)
			n++
		}
		require.Equal(t, 2, n, "one key per email and address, one per address")
	})
}

func TestRefresh(t *testing.T) {
	ts := newServer(t)
	refresh := func(token string) *response {
		return ts.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": token})
	}
	t.Run("rotation_gives_a_working_pair_and_spends_the_old_token", func(t *testing.T) {
		s := ts.login(ts.Admin.Email, ts.Admin.Password)
		r := refresh(s.Refresh)
		require.Equal(t, 200, r.Status, r.Text())
		pair := r.JSON()
		require.NotEqual(t, s.Refresh, pair["refresh_token"])
		require.Equal(t, 200, ts.do("GET", "/v1/me", pair["access_token"].(string), nil).Status)
		r2 := refresh(pair["refresh_token"].(string))
		require.Equal(t, 200, r2.Status, "the new refresh token works")
	})
	t.Run("reuse_revokes_the_whole_family", func(t *testing.T) {
		s := ts.login(ts.Admin.Email, ts.Admin.Password)
		first := refresh(s.Refresh)
		require.Equal(t, 200, first.Status)
		newest := first.JSON()["refresh_token"].(string)
		p := refresh(s.Refresh).problem(401)
		require.Contains(t, p["detail"], "already used")
		refresh(newest).problem(401)
	})
	t.Run("logout_ends_the_family", func(t *testing.T) {
		s := ts.login(ts.Admin.Email, ts.Admin.Password)
		r := ts.do("POST", "/v1/auth/logout", "", map[string]string{"refresh_token": s.Refresh})
		require.Equal(t, 204, r.Status, r.Text())
		refresh(s.Refresh).problem(401)
		ts.do("POST", "/v1/auth/logout", "", map[string]string{"refresh_token": "unknown"}).problem(401)
	})
	t.Run("garbage_token_is_401", func(t *testing.T) {
		refresh("not-a-token").problem(401)
	})
}

func TestAccessTokens(t *testing.T) {
	ts := newServer(t)
	now := time.Now()
	claims := func(exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{
			"iss": auth.Issuer, "aud": auth.Audience, "sub": ts.Admin.User, "wid": ts.Admin.WorkspaceID,
			"role": "admin", "iat": now.Unix(), "exp": exp.Unix(),
		}
	}
	sign := func(m jwt.SigningMethod, c jwt.MapClaims, key any) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		require.NoError(t, err)
		return s
	}
	valid := sign(jwt.SigningMethodHS256, claims(now.Add(time.Minute)), []byte(jwtKey))
	require.Equal(t, 200, ts.do("GET", "/v1/me", valid, nil).Status, "the forged-looking but correct token is accepted")

	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	body, _ := json.Marshal(claims(now.Add(time.Minute)))
	parts := strings.Split(valid, ".")
	cases := map[string]string{
		"expired":         sign(jwt.SigningMethodHS256, claims(now.Add(-time.Minute)), []byte(jwtKey)),
		"tampered":        parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(body), `"admin"`, `"viewer"`, 1))) + "." + parts[2],
		"alg_none":        noneHeader + "." + base64.RawURLEncoding.EncodeToString(body) + ".",
		"wrong_algorithm": sign(jwt.SigningMethodHS512, claims(now.Add(time.Minute)), []byte(jwtKey)),
		"wrong_key":       sign(jwt.SigningMethodHS256, claims(now.Add(time.Minute)), []byte("another-key-another-key-another-key!")),
		"wrong_audience": sign(jwt.SigningMethodHS256, func() jwt.MapClaims {
			c := claims(now.Add(time.Minute))
			c["aud"] = "someone-else"
			return c
		}(), []byte(jwtKey)),
		"no_expiry": sign(jwt.SigningMethodHS256, func() jwt.MapClaims {
			c := claims(now)
			delete(c, "exp")
			return c
		}(), []byte(jwtKey)),
		"not_a_jwt":       "hello",
		"unknown_api_key": "sk_doesnotexist",
	}
	for name, token := range cases {
		t.Run(name+"_is_401", func(t *testing.T) {
			ts.do("GET", "/v1/me", token, nil).problem(401)
		})
	}
	t.Run("no_credentials_is_401", func(t *testing.T) {
		ts.do("GET", "/v1/me", "", nil).problem(401)
	})
	t.Run("removed_user_token_is_401", func(t *testing.T) {
		u := createUser(t, ts, "gone@example.com", "operator")
		s := ts.login(u, "password-"+u)
		require.Equal(t, 204, ts.do("DELETE", "/v1/users/"+s.User, ts.Admin.Access, nil).Status)
		ts.do("GET", "/v1/me", s.Access, nil).problem(401)
	})
}

// createUser adds a user to the admin's workspace; its password is "password-"+email.
func createUser(t *testing.T, ts *testServer, email, role string) string {
	t.Helper()
	r := ts.do("POST", "/v1/users", ts.Admin.Access, map[string]string{"email": email, "role": role, "password": "password-" + email})
	require.Equal(t, 201, r.Status, r.Text())
	return email
}

func TestRolesAndTenancy(t *testing.T) {
	ts := newServer(t)
	viewer := ts.login(createUser(t, ts, "viewer@example.com", "viewer"), "password-viewer@example.com")
	t.Run("viewer_cannot_list_users", func(t *testing.T) {
		p := ts.do("GET", "/v1/users", viewer.Access, nil).problem(403)
		require.Contains(t, p["detail"], "admin")
	})
	t.Run("viewer_can_read_me", func(t *testing.T) {
		require.Equal(t, "viewer", ts.do("GET", "/v1/me", viewer.Access, nil).JSON()["role"])
	})
	t.Run("role_change_takes_effect_at_once", func(t *testing.T) {
		u := ts.login(createUser(t, ts, "promoted@example.com", "viewer"), "password-promoted@example.com")
		r := ts.do("PATCH", "/v1/users/"+u.User, ts.Admin.Access, map[string]string{"role": "admin"})
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, 200, ts.do("GET", "/v1/users", u.Access, nil).Status)
	})
	other := ts.newWorkspace("other@example.com")
	t.Run("another_workspaces_user_is_404", func(t *testing.T) {
		ts.do("GET", "/v1/users/"+viewer.User, other.Access, nil).problem(404)
		ts.do("PATCH", "/v1/users/"+viewer.User, other.Access, map[string]string{"role": "admin"}).problem(404)
		ts.do("DELETE", "/v1/users/"+viewer.User, other.Access, nil).problem(404)
		require.Equal(t, "viewer", ts.do("GET", "/v1/users/"+viewer.User, ts.Admin.Access, nil).JSON()["role"], "unchanged")
	})
	t.Run("another_workspaces_api_key_is_404", func(t *testing.T) {
		k := ts.do("POST", "/v1/api-keys", ts.Admin.Access, map[string]string{"name": "mine", "role": "viewer"}).JSON()
		ts.do("DELETE", "/v1/api-keys/"+k["id"].(string), other.Access, nil).problem(404)
		list := ts.do("GET", "/v1/api-keys", other.Access, nil).JSON()
		require.Empty(t, list["data"])
	})
	t.Run("last_admin_cannot_be_demoted", func(t *testing.T) {
		p := ts.do("PATCH", "/v1/users/"+other.User, other.Access, map[string]string{"role": "viewer"}).problem(409)
		require.Contains(t, p["detail"], "admin")
	})
}

func TestAPIKeys(t *testing.T) {
	ts := newServer(t)
	r := ts.do("POST", "/v1/api-keys", ts.Admin.Access, map[string]string{"name": "zapier", "role": "operator"})
	require.Equal(t, 201, r.Status, r.Text())
	k := r.JSON()
	key := k["key"].(string)
	require.True(t, strings.HasPrefix(key, domain.APIKeyPrefix))
	require.True(t, strings.HasPrefix(key, k["prefix"].(string)))

	me := ts.do("GET", "/v1/me", key, nil)
	require.Equal(t, 200, me.Status, me.Text())
	require.Equal(t, "api_key", me.JSON()["kind"])
	require.Equal(t, "operator", me.JSON()["role"])
	ts.do("GET", "/v1/users", key, nil).problem(403)

	list := ts.do("GET", "/v1/api-keys", ts.Admin.Access, nil)
	require.NotContains(t, list.Text(), key, "the key is shown once only")
	require.NotNil(t, list.JSON()["data"].([]any)[0].(map[string]any)["last_used_at"], "use is recorded")

	require.Equal(t, 204, ts.do("DELETE", "/v1/api-keys/"+k["id"].(string), ts.Admin.Access, nil).Status)
	ts.do("GET", "/v1/me", key, nil).problem(401)

	t.Run("secrets_never_reach_the_log", func(t *testing.T) {
		logs := ts.Logs.String()
		for _, secret := range []string{key, ts.Admin.Access, ts.Admin.Refresh, ts.Admin.Password} {
			require.NotContains(t, logs, secret)
		}
		require.Contains(t, logs, `"route":"/v1/api-keys"`, "requests are logged")
	})
}

func TestUsersPaging(t *testing.T) {
	ts := newServer(t)
	for _, e := range []string{"b@example.com", "c@example.com", "d@example.com"} {
		createUser(t, ts, e, "viewer")
	}
	seen := 0
	path := "/v1/users?limit=2"
	for {
		page := ts.do("GET", path, ts.Admin.Access, nil).JSON()
		seen += len(page["data"].([]any))
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		path = "/v1/users?limit=2&cursor=" + next
	}
	require.Equal(t, 4, seen)
	ts.do("GET", "/v1/users?limit=501", ts.Admin.Access, nil).problem(422)
	ts.do("GET", "/v1/users?limit=abc", ts.Admin.Access, nil).problem(422)
	ts.do("GET", "/v1/users?cursor=!!!", ts.Admin.Access, nil).problem(422)
}
