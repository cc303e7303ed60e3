package store

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// decodeData decodes an instance's data (jsonb text from PostgreSQL, so
// well-formed JSON) into the values json.Unmarshal gives an any: objects as
// map[string]any, arrays as []any, numbers as float64, strings, booleans
// and nil. It reads the text once, where json.Unmarshal validates it in a
// pass of its own and then decodes it: on a page of 100 partnerships the
// decoding of their instances' data was 15% of the server's CPU. Anything
// it does not read the simple way (a string with an escape or a byte
// outside ASCII, a malformed document) is handed to json.Unmarshal, so the
// result is always json.Unmarshal's.
func decodeData(b []byte) (map[string]any, error) {
	d := dataDecoder{b: b}
	v, ok := d.value()
	d.space()
	m, isObject := v.(map[string]any)
	if ok && v == nil && d.i == len(d.b) {
		return nil, nil // null
	}
	if !ok || !isObject || d.i != len(d.b) {
		var out map[string]any
		err := json.Unmarshal(b, &out)
		return out, err
	}
	return m, nil
}

type dataDecoder struct {
	b []byte
	i int
}

func (d *dataDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// value reads one value; false means the caller must let json.Unmarshal
// read the document.
func (d *dataDecoder) value() (any, bool) {
	d.space()
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		d.i++
		m := map[string]any{}
		d.space()
		if d.i < len(d.b) && d.b[d.i] == '}' {
			d.i++
			return m, true
		}
		for {
			d.space()
			k, ok := d.string()
			if !ok {
				return nil, false
			}
			d.space()
			if d.i >= len(d.b) || d.b[d.i] != ':' {
				return nil, false
			}
			d.i++
			v, ok := d.value()
			if !ok {
				return nil, false
			}
			m[k] = v
			d.space()
			if d.i >= len(d.b) {
				return nil, false
			}
			if d.b[d.i] == '}' {
				d.i++
				return m, true
			}
			if d.b[d.i] != ',' {
				return nil, false
			}
			d.i++
		}
	case c == '[':
		d.i++
		list := []any{}
		d.space()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return list, true
		}
		for {
			v, ok := d.value()
			if !ok {
				return nil, false
			}
			list = append(list, v)
			d.space()
			if d.i >= len(d.b) {
				return nil, false
			}
			if d.b[d.i] == ']' {
				d.i++
				return list, true
			}
			if d.b[d.i] != ',' {
				return nil, false
			}
			d.i++
		}
	case c == '"':
		s, ok := d.string()
		return s, ok
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		start := d.i
		for d.i < len(d.b) && (d.b[d.i] >= '0' && d.b[d.i] <= '9' || d.b[d.i] == '-' || d.b[d.i] == '+' ||
			d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
			d.i++
		}
		f, err := strconv.ParseFloat(string(d.b[start:d.i]), 64)
		return f, err == nil && validNumber(d.b[start:d.i])
	}
	return nil, false
}

func (d *dataDecoder) literal(word string) bool {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return false
	}
	d.i += len(word)
	return true
}

// string reads a string without escapes, of printable ASCII or valid UTF-8.
func (d *dataDecoder) string() (string, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return "", false
	}
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			s := d.b[start:j]
			if !utf8.Valid(s) {
				return "", false
			}
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// validNumber says whether b is a number as JSON writes one (ParseFloat
// also takes forms JSON does not, such as "+1" or "1.").
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i == len(b)
}
