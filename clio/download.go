package clio

// Downloads. GET /api/v4/{documents,document_archives,document_templates,
// reports}/{id}/download.json answers 303 See Other with the location of
// the file on a storage host. The API request carries the bearer token; the
// storage request must not, so the redirect is not followed by the API
// client: it is stopped there and replayed through the storage client.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
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

// downloader fetches download.json resources.
type downloader struct {
	// api sends requests to the API host with the token. Its
	// CheckRedirect is overridden on a copy; the original is untouched.
	api *http.Client
	// storage fetches the redirect target; it must not add a token.
	storage *http.Client
	// base is the API origin, e.g. https://app.clio.com.
	base *url.URL
}

// Paths of Clio's four download operations (all answer 303).
const (
	downloadDocument         = "/api/v4/documents/%d/download.json"
	downloadDocumentArchive  = "/api/v4/document_archives/%d/download.json"
	downloadDocumentTemplate = "/api/v4/document_templates/%d/download.json"
	downloadReport           = "/api/v4/reports/%d/download.json"
)

// document streams the latest version of a document, or the version given
// by a non-zero versionID (the document_version_id parameter).
func (d *downloader) document(ctx context.Context, id, versionID int64) (*Download, error) {
	var q url.Values
	if versionID != 0 {
		q = url.Values{"document_version_id": {strconv.FormatInt(versionID, 10)}}
	}
	return d.get(ctx, fmt.Sprintf(downloadDocument, id), q)
}

func (d *downloader) documentArchive(ctx context.Context, id int64) (*Download, error) {
	return d.get(ctx, fmt.Sprintf(downloadDocumentArchive, id), nil)
}

func (d *downloader) documentTemplate(ctx context.Context, id int64) (*Download, error) {
	return d.get(ctx, fmt.Sprintf(downloadDocumentTemplate, id), nil)
}

func (d *downloader) report(ctx context.Context, id int64) (*Download, error) {
	return d.get(ctx, fmt.Sprintf(downloadReport, id), nil)
}

func (d *downloader) get(ctx context.Context, path string, q url.Values) (*Download, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL(d.base, path, q), nil)
	if err != nil {
		return nil, err
	}
	api := *d.api
	api.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := api.Do(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode/100 == 2:
		// Some deployments (and fakes) answer with the bytes directly.
		return newDownload(resp), nil
	case isRedirect(resp.StatusCode):
		loc, err := resp.Location()
		drainClose(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("clio: download %s: redirect without a usable Location: %w", path, redactError(err))
		}
		return d.fromStorage(ctx, loc)
	default:
		defer resp.Body.Close()
		return nil, CheckResponse(resp)
	}
}

// fromStorage GETs the file with a fresh request: no header of the API
// request is carried over, so neither the token nor anything else the API
// transport added can reach the storage host.
func (d *downloader) fromStorage(ctx context.Context, loc *url.URL) (*Download, error) {
	if loc.Scheme != "https" && loc.Scheme != "http" {
		return nil, fmt.Errorf("clio: download redirected to unsupported scheme %q", loc.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return nil, redactError(err)
	}
	resp, err := d.storage.Do(req)
	if err != nil {
		return nil, fmt.Errorf("clio: download from storage host %s: %w", loc.Host, redactError(stripURLErr(err)))
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, storageError(resp)
	}
	return newDownload(resp), nil
}

// stripURLErr drops the signed URL from a *url.Error: its query string is
// a credential for the file and must not end up in logs.
func stripURLErr(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func newDownload(resp *http.Response) *Download {
	d := &Download{ReadCloser: resp.Body, ContentLength: resp.ContentLength,
		ContentType: resp.Header.Get("Content-Type")}
	if cd := resp.Header.Get("Content-Disposition"); cd != "" {
		if _, params, err := mime.ParseMediaType(cd); err == nil {
			d.Filename = params["filename"]
		}
	}
	return d
}

func (c *Client) downloader() *downloader {
	return &downloader{api: c.hc, storage: c.storage, base: c.base}
}

// Download streams the content of the document's latest version (Clio operation
// Document#download: GET /api/v4/documents/{id}/download.json, answered by a 303 to storage,
// which is followed without the bearer token). Close the result.
func (s *DocumentsService) Download(ctx context.Context, id int64) (*Download, error) {
	if err := checkContext(ctx); err != nil {
		return nil, err
	}
	return s.client.downloader().document(ctx, id, 0)
}

// DownloadVersion streams the content of one version of the document.
func (s *DocumentsService) DownloadVersion(ctx context.Context, id, versionID int64) (*Download, error) {
	if err := checkContext(ctx); err != nil {
		return nil, err
	}
	return s.client.downloader().document(ctx, id, versionID)
}

// Download streams the archive (Clio operation DocumentArchive#download). Close the result.
func (s *DocumentArchivesService) Download(ctx context.Context, id int64) (*Download, error) {
	if err := checkContext(ctx); err != nil {
		return nil, err
	}
	return s.client.downloader().documentArchive(ctx, id)
}

// Download streams the template's file (Clio operation DocumentTemplate#download). Close the result.
func (s *DocumentTemplatesService) Download(ctx context.Context, id int64) (*Download, error) {
	if err := checkContext(ctx); err != nil {
		return nil, err
	}
	return s.client.downloader().documentTemplate(ctx, id)
}

// Download streams the completed report (Clio operation Report#download). Close the result.
func (s *ReportsService) Download(ctx context.Context, id int64) (*Download, error) {
	if err := checkContext(ctx); err != nil {
		return nil, err
	}
	return s.client.downloader().report(ctx, id)
}
