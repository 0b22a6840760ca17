package policy

import "testing"

func TestCombinePolicies_KeepsEveryStatementInOrder(t *testing.T) {
	got, err := Combine(
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:1","Resource":"*"}}`,
		"",
		"{\n \"Version\": \"2008-10-17\",\n \"Statement\": [ {\"Effect\":\"Deny\", \"Action\":[\"b:2\"], \"Resource\":\"arn:aws:s3:::b/<y>&z\"}, {\"Sid\":\"S\",\"Effect\":\"Allow\",\"Action\":\"c:3\",\"Resource\":\"*\"} ]\n}",
	)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:1","Resource":"*"},{"Effect":"Deny","Action":["b:2"],"Resource":"arn:aws:s3:::b/<y>&z"},{"Sid":"S","Effect":"Allow","Action":"c:3","Resource":"*"}]}`
	if got != want {
		t.Errorf("combined =\n%s\nwant\n%s", got, want)
	}
	if err := Validate(got); err != nil {
		t.Errorf("combined document is not a valid policy: %v", err)
	}
	if _, err := Combine(`{"Statement":`); err == nil {
		t.Error("a document that is not JSON was merged")
	}
}

func TestDecodeIAMDocument(t *testing.T) {
	for in, want := range map[string]string{
		"%7B%22Resource%22%3A%22a%2Bb%20c%22%7D": `{"Resource":"a+b c"}`,
		`{"Resource":"a+b"}`:                     `{"Resource":"a+b"}`,
	} {
		if got, err := DecodeIAM(in); err != nil || got != want {
			t.Errorf("DecodeIAM(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
