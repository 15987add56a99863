package ofp13

import "bytes"

// Small helpers shared by the encoders and decoders.

// pad8 rounds n up to a multiple of 8, the alignment of matches, actions,
// instructions and most variable-length structures.
func pad8(n int) int { return (n + 7) &^ 7 }

func appendZeros(b []byte, n int) []byte {
	for range n {
		b = append(b, 0)
	}
	return b
}

// padTo8 zero-pads b so that the structure that began at start ends on an
// 8-byte boundary.
func padTo8(b []byte, start int) []byte {
	return appendZeros(b, pad8(len(b)-start)-(len(b)-start))
}

// putLen16 stores len(b)-start, the length of the structure that began at
// start, into the 16-bit field at b[at:].
func putLen16(b []byte, start, at int) error {
	n := len(b) - start
	if n > 0xffff {
		return ErrTooLong
	}
	be.PutUint16(b[at:], uint16(n))
	return nil
}

// cloneBytes copies b, keeping empty as nil so that decoded messages
// compare equal to the ones they were encoded from.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

// wantEmpty checks that a message that has no body has none.
func wantEmpty(body []byte) error {
	if len(body) != 0 {
		return Errorf(ErrTypeBadRequest, BadRequestBadLen, "%d unexpected body bytes", len(body))
	}
	return nil
}

// wantLen checks that a fixed-size body has exactly n bytes.
func wantLen(body []byte, n int, what string) error {
	if len(body) != n {
		return Errorf(ErrTypeBadRequest, BadRequestBadLen, "%s body is %d bytes, want %d", what, len(body), n)
	}
	return nil
}

// appendString writes s as a NUL-padded fixed-size field of n bytes,
// truncated to n-1 bytes so that it is always NUL-terminated.
func appendString(b []byte, s string, n int) []byte {
	if len(s) > n-1 {
		s = s[:n-1]
	}
	b = append(b, s...)
	return appendZeros(b, n-len(s))
}

// cString reads a NUL-terminated string from a fixed-size field. A field
// without its NUL is read as if the last byte were one, as appendString
// writes it.
func cString(b []byte) string {
	b = b[:len(b)-1]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
