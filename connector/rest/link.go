package rest

import (
	"net/http"
	"strings"
)

// nextLink returns the target of the rel="next" link in the response's
// Link headers (RFC 8288), or "". It accepts what servers actually send:
// several links in one header or one per header line, quoted or bare
// parameter values, several relation types in one rel, any letter case.
func nextLink(h http.Header) string {
	for _, line := range h.Values("Link") {
		for _, link := range splitOutside(line, ',') {
			target, params, ok := parseLink(link)
			if !ok {
				continue
			}
			for _, p := range params {
				name, value, _ := strings.Cut(p, "=")
				if !strings.EqualFold(strings.TrimSpace(name), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(value), `"`)) {
					if strings.EqualFold(rel, "next") {
						return target
					}
				}
			}
		}
	}
	return ""
}

// parseLink splits `<target>; a=b; c="d"` into the target and its params.
func parseLink(s string) (target string, params []string, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "<") {
		return "", nil, false
	}
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return "", nil, false
	}
	return strings.TrimSpace(s[1:end]), splitOutside(s[end+1:], ';'), true
}

// splitOutside splits s at sep, except inside <...> or "..." (a target
// URL or a quoted title may contain commas and semicolons).
func splitOutside(s string, sep byte) []string {
	var parts []string
	inURL, inQuote, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' && !inURL:
			inQuote = !inQuote
		case c == '<' && !inQuote:
			inURL = true
		case c == '>' && !inQuote:
			inURL = false
		case c == sep && !inURL && !inQuote:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
