package notify

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Parsed is a message as a mail server received it, read back: its
// header, its subject, and the first text/plain and text/html parts,
// decoded (quoted-printable, base64) with line endings turned into "\n".
type Parsed struct {
	Header  mail.Header
	Subject string // decoded (RFC 2047)
	Text    string
	HTML    string
}

// Parse reads the header, subject, and first text and HTML parts of an
// RFC 5322 message, such as those Composer makes after SMTP has encoded
// them. It is the receiving side, for test mail servers and the load
// tool's mail sink; it supports the UTF-8 and US-ASCII charsets only.
func Parse(data []byte) (*Parsed, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	r := &Parsed{Header: msg.Header}
	dec := mime.WordDecoder{CharsetReader: charsetReader}
	if r.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return nil, fmt.Errorf("decode subject: %w", err)
	}
	if err := r.walk(msg.Header, msg.Body, 0); err != nil {
		return nil, err
	}
	return r, nil
}

// header is a mail.Header or a multipart part's textproto.MIMEHeader.
type header interface{ Get(string) string }

// walk reads one MIME entity, descending into multiparts.
func (r *Parsed) walk(h header, body io.Reader, depth int) error {
	if depth > 10 {
		return fmt.Errorf("MIME parts nested too deep")
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ct, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read %s part: %w", mt, err)
			}
			if err := r.walk(p.Header, p, depth+1); err != nil {
				return err
			}
		}
	}
	if mt != "text/plain" && mt != "text/html" {
		return nil
	}
	if d, _, _ := mime.ParseMediaType(h.Get("Content-Disposition")); d == "attachment" {
		return nil
	}
	switch cs := strings.ToLower(params["charset"]); cs {
	case "", "utf-8", "us-ascii":
	default:
		return fmt.Errorf("charset %q is not supported", cs)
	}
	switch cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); cte {
	case "", "7bit", "8bit", "binary":
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	default:
		return fmt.Errorf("content transfer encoding %q is not supported", cte)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("decode %s part: %w", mt, err)
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch {
	case mt == "text/plain" && r.Text == "":
		r.Text = s
	case mt == "text/html" && r.HTML == "":
		r.HTML = s
	}
	return nil
}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "us-ascii":
		return input, nil
	}
	return nil, fmt.Errorf("charset %q is not supported", charset)
}
