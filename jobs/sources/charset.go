package sources

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
)

// charsetAliases maps charset names, lower-cased and stripped of '-', '_',
// '.' and spaces, to the canonical (WHATWG) label this package decodes by.
// Browsers and engines spell them many ways: "utf8", "UTF-8", "gb2312",
// "GBK", "cp936", "EUC-KR", "ks_c_5601-1987", "Shift_JIS", "ms932", "x-sjis".
var charsetAliases = map[string]string{
	"utf8": "utf-8", "unicode11utf8": "utf-8", "unicode": "utf-8",
	"gbk": "gbk", "gb2312": "gbk", "cp936": "gbk", "ms936": "gbk", "windows936": "gbk", "xgbk": "gbk",
	"euccn": "gbk", "chinese": "gbk", "gb231280": "gbk", "csgb2312": "gbk",
	"gb18030": "gb18030",
	"big5":    "big5", "big5hkscs": "big5", "cnbig5": "big5", "xxbig5": "big5", "cp950": "big5",
	"euckr": "euc-kr", "cp949": "euc-kr", "uhc": "euc-kr", "windows949": "euc-kr", "ksc5601": "euc-kr",
	"ksc56011987": "euc-kr", "ksc56011989": "euc-kr", "korean": "euc-kr", "cseuckr": "euc-kr",
	"shiftjis": "shift_jis", "sjis": "shift_jis", "xsjis": "shift_jis", "ms932": "shift_jis",
	"cp932": "shift_jis", "windows31j": "shift_jis", "mskanji": "shift_jis", "csshiftjis": "shift_jis",
	"eucjp": "euc-jp", "xeucjp": "euc-jp", "cseucpkdfmtjapanese": "euc-jp",
	"iso2022jp": "iso-2022-jp", "csiso2022jp": "iso-2022-jp",
	"koi8r": "koi8-r", "koi8": "koi8-r", "koi8u": "koi8-u",
	"ibm866": "ibm866", "cp866": "ibm866",
	"latin1": "windows-1252", "iso88591": "windows-1252", "l1": "windows-1252", "ascii": "windows-1252",
	"usascii": "windows-1252", "cp1252": "windows-1252", "windows1252": "windows-1252", "cp819": "windows-1252",
	"latin2": "iso-8859-2", "iso88592": "iso-8859-2", "iso88593": "iso-8859-3", "iso88594": "iso-8859-4",
	"iso88595": "iso-8859-5", "iso88596": "iso-8859-6", "iso88597": "iso-8859-7", "iso88598": "iso-8859-8",
	"iso885910": "iso-8859-10", "iso885913": "iso-8859-13", "iso885914": "iso-8859-14",
	"iso885915": "iso-8859-15", "latin9": "iso-8859-15", "iso885916": "iso-8859-16",
	"iso88599": "windows-1254", "latin5": "windows-1254", "tis620": "windows-874", "iso885911": "windows-874",
	"windows1250": "windows-1250", "cp1250": "windows-1250", "windows1251": "windows-1251", "cp1251": "windows-1251",
	"windows1253": "windows-1253", "cp1253": "windows-1253", "windows1254": "windows-1254", "cp1254": "windows-1254",
	"windows1255": "windows-1255", "cp1255": "windows-1255", "windows1256": "windows-1256", "cp1256": "windows-1256",
	"windows1257": "windows-1257", "cp1257": "windows-1257", "windows1258": "windows-1258", "cp1258": "windows-1258",
	"windows874": "windows-874", "cp874": "windows-874",
}

// canonCharset returns the canonical label of the charset named name, or ""
// when it is not one this package knows.
func canonCharset(name string) string {
	var buf [24]byte
	n := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == ' ':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if n == len(buf) {
			return ""
		}
		buf[n] = c
		n++
	}
	return charsetAliases[string(buf[:n])]
}

// legacyEncodings maps every canonical label of charsetAliases but UTF-8 to
// its WHATWG decoder from golang.org/x/text: GBK and GB18030, Big5, EUC-KR
// (as Windows-949), Shift_JIS, EUC-JP, ISO-2022-JP, KOI8, IBM866, and the
// ISO-8859 and Windows code pages. Read-only after package initialisation.
var legacyEncodings = func() map[string]encoding.Encoding {
	m := map[string]encoding.Encoding{}
	for _, label := range charsetAliases {
		if label == "utf-8" {
			continue
		}
		e, err := htmlindex.Get(label)
		if err != nil {
			panic(fmt.Sprintf("sources: charset %s: %v", label, err))
		}
		m[label] = e
	}
	return m
}()

// decodeLegacy appends src, text in the charset with canonical label cs, to
// dst as UTF-8. known is false when cs is not a charset of charsetAliases;
// clean is false when src held bytes invalid in cs (they become U+FFFD).
func decodeLegacy(dst []byte, cs string, src []byte) (out []byte, clean, known bool) {
	e, ok := legacyEncodings[cs]
	if !ok {
		return dst, false, false
	}
	b, err := e.NewDecoder().Bytes(src)
	if err != nil {
		return dst, false, false
	}
	return append(dst, b...), !bytes.ContainsRune(b, utf8.RuneError), true
}
