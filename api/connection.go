package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"syncd/connector"
	"syncd/connector/outbound"
	"syncd/domain"
)

// connectionHandlers serve connections: their config, credentials, tests
// and pulls.
type connectionHandlers struct {
	store Store
	now   func() time.Time
	// schemas are the OpenAPI document's config schema of each kind.
	schemas map[domain.ConnectionKind]*openapi3.Schema
	// outbound is the template of the client built for each remote call.
	outbound        outbound.Options
	massDeleteRatio float64
}

func newConnectionHandlers(d Deps) (*connectionHandlers, error) {
	spec, err := loadSpec()
	if err != nil {
		return nil, err
	}
	h := &connectionHandlers{
		store: d.Store, now: d.Now, outbound: d.Config.Outbound, massDeleteRatio: d.Config.MassDeleteRatio,
		schemas: map[domain.ConnectionKind]*openapi3.Schema{},
	}
	for kind, name := range map[domain.ConnectionKind]string{domain.KindFile: "FileConfig", domain.KindREST: "RestConfig", domain.KindHosted: "HostedConfig"} {
		ref := spec.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("the OpenAPI document has no %s schema", name)
		}
		h.schemas[kind] = ref.Value
	}
	if h.outbound.Logger == nil {
		h.outbound.Logger = d.Logger
	}
	return h, nil
}

func connectionOut(c *domain.Connection) Connection {
	return Connection{
		Id: c.ID, Name: c.Name, Kind: ConnectionKind(c.Kind), Config: json.RawMessage(c.Config),
		CredentialsSet: len(c.CredentialFields) > 0, CredentialFields: c.CredentialFields,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// ListConnections lists the workspace's connections.
func (h *connectionHandlers) ListConnections(c echo.Context, params ListConnectionsParams) error {
	p, err := pageOf(params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	list, err := h.store.Connections(c.Request().Context(), principal(c).WorkspaceID, p)
	if err != nil {
		return err
	}
	out := ConnectionList{Data: make([]Connection, len(list))}
	for i := range list {
		out.Data[i] = connectionOut(&list[i])
	}
	out.NextCursor = nextCursor(len(list), p, func() string { return list[len(list)-1].ID })
	return c.JSON(http.StatusOK, out)
}

// CreateConnection stores a connection after checking its config and
// credentials against its kind.
func (h *connectionHandlers) CreateConnection(c echo.Context, _ CreateConnectionParams) error {
	var req ConnectionCreate
	if err := bind(c, &req); err != nil {
		return err
	}
	kind := domain.ConnectionKind(req.Kind)
	nameErr := domain.ValidateConnectionName(req.Name)
	cfg, err := h.checkConfig(kind, req.Config)
	if err != nil {
		return mergeInvalid(nameErr, err)
	}
	creds, err := connector.ParseCredentials(kind, cfg, credentialsOf(req.Credentials))
	if err := mergeInvalid(nameErr, err); err != nil {
		return err
	}
	conn := &domain.Connection{
		WorkspaceID: principal(c).WorkspaceID, Name: strings.TrimSpace(req.Name), Kind: kind, Config: cfg, Credentials: creds,
	}
	if err := h.store.CreateConnection(c.Request().Context(), conn); err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etagOf(conn.Version))
	return c.JSON(http.StatusCreated, connectionOut(conn))
}

// GetConnection shows one connection, without credential values.
func (h *connectionHandlers) GetConnection(c echo.Context, id ConnectionID) error {
	conn, err := h.store.Connection(c.Request().Context(), principal(c).WorkspaceID, id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etagOf(conn.Version))
	return c.JSON(http.StatusOK, connectionOut(conn))
}

// UpdateConnection changes a connection's name, config or credentials.
// The config and the credentials are checked together, so a change to
// either cannot leave the pair unusable.
func (h *connectionHandlers) UpdateConnection(c echo.Context, id ConnectionID, params UpdateConnectionParams) error {
	var req ConnectionPatch
	if err := bind(c, &req); err != nil {
		return err
	}
	ifVersion, err := headerVersion(params.IfMatch)
	if err != nil {
		return err
	}
	if ifVersion == domain.IfExists {
		ifVersion = 0 // If-Match: * — any version will do
	}
	ctx, ws := c.Request().Context(), principal(c).WorkspaceID
	cur, err := h.store.Connection(ctx, ws, id)
	if err != nil {
		return err
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return domain.Errorf(domain.CodeStale, "the connection changed since it was read (If-Match is stale)")
	}
	var patch domain.ConnectionPatch
	var nameErr error
	if req.Name != nil {
		nameErr = domain.ValidateConnectionName(*req.Name)
		name := strings.TrimSpace(*req.Name)
		patch.Name = &name
	}
	cfg, creds := cur.Config, cur.Credentials
	if req.Config != nil {
		if cfg, err = h.checkConfig(cur.Kind, *req.Config); err != nil {
			return mergeInvalid(nameErr, err)
		}
		patch.Config = cfg
	}
	if req.Credentials != nil {
		creds = credentialsOf(req.Credentials)
	}
	if req.Config != nil || req.Credentials != nil {
		checked, err := connector.ParseCredentials(cur.Kind, cfg, creds)
		if err := mergeInvalid(nameErr, err); err != nil {
			return err
		}
		if req.Credentials != nil {
			patch.Credentials = append([]byte{}, checked...) // non-nil: {} clears them
		}
	} else if nameErr != nil {
		return nameErr
	}
	// Without If-Match, the version read above still guards the update:
	// the checks ran against it.
	conn, err := h.store.UpdateConnection(ctx, ws, id, patch, cur.Version, h.now())
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etagOf(conn.Version))
	return c.JSON(http.StatusOK, connectionOut(conn))
}

// DeleteConnection removes a connection and the hub's copy of its records.
func (h *connectionHandlers) DeleteConnection(c echo.Context, id ConnectionID) error {
	if err := h.store.DeleteConnection(c.Request().Context(), principal(c).WorkspaceID, id); err != nil {
		return err
	}
	return noContent(c)
}

// checkConfig checks a config against the kind's schema in the OpenAPI
// document, then against the kind's own rules, and returns it in stored
// form. Every problem is named by its path from the request body.
func (h *connectionHandlers) checkConfig(kind domain.ConnectionKind, raw json.RawMessage) ([]byte, error) {
	schema, ok := h.schemas[kind]
	if !ok {
		return nil, domain.Invalid("unknown connection kind", map[string]string{"kind": "must be file, rest or hosted"})
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, domain.Invalid("the config is not JSON", map[string]string{"config": "must be a JSON object"})
	}
	if err := schema.VisitJSON(doc, openapi3.MultiErrors(), openapi3.VisitAsRequest()); err != nil {
		fields := map[string]string{}
		schemaFields(err, fields)
		if len(fields) == 0 {
			fields["config"] = err.Error()
		}
		return nil, domain.Invalid(fmt.Sprintf("the config does not fit a %s connection", kind), fields)
	}
	return connector.ParseConfig(kind, raw)
}

// schemaFields collects schema errors by their path below "config".
func schemaFields(err error, fields map[string]string) {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			schemaFields(e, fields)
		}
		return
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		path, reason := schemaPath(se)
		if path == "body" {
			path = "config"
		} else {
			path = "config." + path
		}
		fields[path] = reason
	}
}

// credentialsOf is the raw credentials of a request, nil when absent.
func credentialsOf(raw *RestCredentials) []byte {
	if raw == nil {
		return nil
	}
	return *raw
}

// mergeInvalid joins the field problems of Invalid errors, so one answer
// names them all. Any other error wins as it is.
func mergeInvalid(errs ...error) error {
	var out *domain.Error
	for _, err := range errs {
		if err == nil {
			continue
		}
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalid {
			return err
		}
		if out == nil {
			out = &domain.Error{Code: domain.CodeInvalid, Message: de.Message, Fields: map[string]string{}}
		}
		maps.Copy(out.Fields, de.Fields)
	}
	if out == nil {
		return nil
	}
	return out
}
