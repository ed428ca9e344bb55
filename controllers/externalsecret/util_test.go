package externalsecret

import "encoding/base64"

func testBase64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
