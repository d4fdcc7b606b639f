package clio

// Downloads. GET /api/v4/{documents,document_archives,document_templates,
// reports}/{id}/download.json answers 303 See Other with the location of
// the file on a storage host. The API request carries the bearer token; the
// storage request must not, so the pipeline hands the 303 back and the
// storage request is a fresh one (storage.go).

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Download is a file being streamed from Clio's storage. Read it like any
// io.Reader and Close it when done; nothing is buffered beyond what
// net/http holds.
type Download struct {
	io.ReadCloser
	// ContentLength is the size announced by storage, -1 when unknown.
	ContentLength int64
	// ContentType is the storage answer's Content-Type, if any.
	ContentType string
	// Filename is the name from a Content-Disposition header, if any.
	Filename string
}

// Paths of Clio's four download operations (all answer 303).
const (
	downloadDocument         = "/api/v4/documents/%d/download.json"
	downloadDocumentArchive  = "/api/v4/document_archives/%d/download.json"
	downloadDocumentTemplate = "/api/v4/document_templates/%d/download.json"
	downloadReport           = "/api/v4/reports/%d/download.json"
)

// download asks the API for the file at path (with the token) and follows the 303 to
// storage (without it), both through the pipeline. The Response is the storage answer's.
func (c *Client) download(ctx context.Context, path string, q url.Values) (*Download, *Response, error) {
	if err := checkContext(ctx); err != nil {
		return nil, nil, err
	}
	u := *c.base
	u.Path = strings.TrimSuffix(c.base.Path, "/") + path
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	_, resp, err := send[struct{}](ctx, c.pipeline, exchange{req: req, stream: true, redirect: true}, nil)
	if err != nil {
		return nil, resp, err
	}
	if resp.StatusCode/100 == 2 {
		// Some deployments (and fakes) answer with the bytes directly.
		return newDownload(resp), resp, nil
	}
	loc, err := resp.Location()
	drainClose(resp.Body)
	if err != nil {
		return nil, resp, fmt.Errorf("clio: download %s: redirect without a usable Location: %w", path, redactError(err))
	}
	sresp, err := c.storageGet(ctx, loc)
	if err != nil {
		return nil, sresp, err
	}
	return newDownload(sresp), sresp, nil
}

func newDownload(resp *Response) *Download {
	d := &Download{ReadCloser: resp.Body, ContentLength: resp.ContentLength,
		ContentType: resp.Header.Get("Content-Type")}
	if cd := resp.Header.Get("Content-Disposition"); cd != "" {
		if _, params, err := mime.ParseMediaType(cd); err == nil {
			d.Filename = params["filename"]
		}
	}
	return d
}

// Download streams the content of the document's latest version (Clio operation
// Document#download: GET /api/v4/documents/{id}/download.json, answered by a 303 to
// storage, which is followed without the bearer token). Close the result.
func (s *DocumentsService) Download(ctx context.Context, id int64) (*Download, *Response, error) {
	return s.client.download(ctx, fmt.Sprintf(downloadDocument, id), nil)
}

// DownloadVersion streams the content of one version of the document.
func (s *DocumentsService) DownloadVersion(ctx context.Context, id, versionID int64) (*Download, *Response, error) {
	q := url.Values{"document_version_id": {strconv.FormatInt(versionID, 10)}}
	return s.client.download(ctx, fmt.Sprintf(downloadDocument, id), q)
}

// Download streams the archive (Clio operation DocumentArchive#download). Close the result.
func (s *DocumentArchivesService) Download(ctx context.Context, id int64) (*Download, *Response, error) {
	return s.client.download(ctx, fmt.Sprintf(downloadDocumentArchive, id), nil)
}

// Download streams the template's file (Clio operation DocumentTemplate#download). Close the result.
func (s *DocumentTemplatesService) Download(ctx context.Context, id int64) (*Download, *Response, error) {
	return s.client.download(ctx, fmt.Sprintf(downloadDocumentTemplate, id), nil)
}

// Download streams the completed report (Clio operation Report#download). Close the result.
func (s *ReportsService) Download(ctx context.Context, id int64) (*Download, *Response, error) {
	return s.client.download(ctx, fmt.Sprintf(downloadReport, id), nil)
}

// storageGet starts streaming a file from a storage URL (a download's 303 location), with
// a fresh request: no header of the API request is carried over.
func (c *Client) storageGet(ctx context.Context, loc *url.URL) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return nil, redactError(err)
	}
	_, resp, err := send[struct{}](ctx, c.pipeline, exchange{req: req, to: toStorage, stream: true}, nil)
	return resp, err
}
