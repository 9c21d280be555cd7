package connector_test

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"syncd/connector"
	"syncd/connector/file"
	"syncd/connector/hosted"
	"syncd/connector/rest"
	"syncd/domain"
	"syncd/openapi"
)

// The OpenAPI document describes each kind's config and the rest
// credentials; the server decodes them into these Go types. A field in one
// and not the other would be refused by the document or silently dropped
// by the decoder, so they must agree field by field.
func TestSpecDescribesEveryConfigField(t *testing.T) {
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(openapi.YAML)
	require.NoError(t, err)
	for name, typ := range map[string]reflect.Type{
		"FileConfig":      reflect.TypeFor[file.Config](),
		"RestConfig":      reflect.TypeFor[rest.Config](),
		"HostedConfig":    reflect.TypeFor[hosted.Config](),
		"RestCredentials": reflect.TypeFor[rest.Credentials](),
	} {
		t.Run(name, func(t *testing.T) {
			ref := spec.Components.Schemas[name]
			require.NotNil(t, ref, "the document has no %s", name)
			sameShape(t, name, typ, ref.Value)
		})
	}
}

// sameShape compares a Go type with a schema, recursing into objects,
// maps and arrays.
func sameShape(t *testing.T, at string, typ reflect.Type, s *openapi3.Schema) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Struct:
		var goNames []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || tag == "-" || tag == "" {
				continue
			}
			goNames = append(goNames, tag)
			prop := s.Properties[tag]
			require.NotNil(t, prop, "%s.%s is in the Go type but not in the document", at, tag)
			sameShape(t, at+"."+tag, f.Type, prop.Value)
		}
		var specNames []string
		for n := range s.Properties {
			specNames = append(specNames, n)
		}
		sort.Strings(goNames)
		sort.Strings(specNames)
		require.Equal(t, specNames, goNames, "%s: the document and the Go type name different fields", at)
		require.NotNil(t, s.AdditionalProperties.Has, "%s must refuse unknown fields", at)
		require.False(t, *s.AdditionalProperties.Has, "%s must refuse unknown fields", at)
	case reflect.Map:
		require.NotNil(t, s.AdditionalProperties.Schema, "%s is a map in Go", at)
		sameShape(t, at+".*", typ.Elem(), s.AdditionalProperties.Schema.Value)
	case reflect.Slice:
		require.True(t, s.Type.Is("array"), "%s is a list in Go", at)
		sameShape(t, at+"[]", typ.Elem(), s.Items.Value)
	case reflect.String:
		require.True(t, s.Type.Is("string"), "%s is a string in Go", at)
	case reflect.Int:
		require.True(t, s.Type.Is("integer"), "%s is an integer in Go", at)
	default:
		t.Fatalf("%s: no rule for Go kind %s", at, typ.Kind())
	}
}

func TestParseConfig(t *testing.T) {
	t.Run("stored_in_one_form", func(t *testing.T) {
		out, err := connector.ParseConfig(domain.KindFile, []byte(` { "objects": { "customers": { "id_column": "nr", "sheet": "" } } } `))
		require.NoError(t, err)
		require.JSONEq(t, `{"objects":{"customers":{"id_column":"nr"}}}`, string(out))
	})
	t.Run("object_names_fit_url_paths", func(t *testing.T) {
		_, err := connector.ParseConfig(domain.KindHosted, []byte(`{"objects":{"my contacts":{}, "ok":{}}}`))
		var de *domain.Error
		require.ErrorAs(t, err, &de)
		require.Equal(t, domain.CodeInvalid, de.Code)
		require.Contains(t, de.Fields, "config.objects.my contacts")
		require.NotContains(t, de.Fields, "config.objects.ok")
	})
	t.Run("rules_of_the_kind_are_named_by_path", func(t *testing.T) {
		_, err := connector.ParseConfig(domain.KindREST, []byte(`{"base_url":"https://x.example.com","objects":{"c":{"list_path":"/c","pagination":{"type":"cursor"}}}}`))
		var de *domain.Error
		require.ErrorAs(t, err, &de)
		require.Contains(t, de.Fields, "config.objects.c.pagination.cursor_path")
	})
	t.Run("wrong_types_are_named_by_path", func(t *testing.T) {
		_, err := connector.ParseConfig(domain.KindREST, []byte(`{"base_url":"https://x.example.com","objects":{"c":{"list_path":"/c","pagination":{"size":"ten"}}}}`))
		var de *domain.Error
		require.ErrorAs(t, err, &de)
		require.Contains(t, de.Fields["config"], "pagination.size must be a number")
	})
}

func TestParseCredentials(t *testing.T) {
	cfg, err := connector.ParseConfig(domain.KindREST, []byte(`{"base_url":"https://x.example.com","auth":{"type":"basic"},"objects":{"c":{"list_path":"/c"}}}`))
	require.NoError(t, err)
	t.Run("empty_fields_are_dropped", func(t *testing.T) {
		out, err := connector.ParseCredentials(domain.KindREST, cfg, []byte(`{"username":"u","password":"p","token":""}`))
		require.NoError(t, err)
		require.JSONEq(t, `{"username":"u","password":"p"}`, string(out))
	})
	t.Run("what_the_auth_type_needs", func(t *testing.T) {
		_, err := connector.ParseCredentials(domain.KindREST, cfg, nil)
		var de *domain.Error
		require.ErrorAs(t, err, &de)
		require.Contains(t, de.Fields, "credentials.username")
	})
	t.Run("other_kinds_take_none", func(t *testing.T) {
		out, err := connector.ParseCredentials(domain.KindHosted, []byte(`{"objects":{"c":{}}}`), []byte(`{}`))
		require.NoError(t, err)
		require.Nil(t, out)
		_, err = connector.ParseCredentials(domain.KindFile, []byte(`{"objects":{"c":{"id_column":"id"}}}`), []byte(`{"api_key":"k"}`))
		require.True(t, domain.IsCode(err, domain.CodeInvalid))
	})
}
