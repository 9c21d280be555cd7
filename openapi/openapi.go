// Package openapi embeds syncd's OpenAPI document, the single source of
// truth for the wire contract. The api package generates its types and
// server interface from it and validates every request against it.
package openapi

import (
	_ "embed"
)

// YAML is the OpenAPI document as written.
//
//go:embed openapi.yaml
var YAML []byte
