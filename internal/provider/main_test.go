package provider_test

import (
	"testing"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
)

func TestMain(m *testing.M) { acctest.Main(m) }
