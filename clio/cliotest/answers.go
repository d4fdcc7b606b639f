package cliotest

import (
	"encoding/json"
	"net/http"
)

// resp is an answer built by a handler before it is validated and written.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func jsonResp(status int, v any) *resp {
	b, err := json.Marshal(v)
	if err != nil {
		return errResp(http.StatusInternalServerError, "InternalServerError", err.Error())
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return &resp{status: status, header: h, body: b}
}

// errResp is Clio's error shape: {"error":{"type":"...","message":"..."}}.
func errResp(status int, typ, msg string) *resp {
	return jsonResp(status, map[string]any{"error": map[string]any{"type": typ, "message": msg}})
}

func emptyResp(status int) *resp { return &resp{status: status, header: http.Header{}} }
