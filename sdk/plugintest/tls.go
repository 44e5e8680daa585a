package plugintest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// CheckPrivateChannel checks that the plugin's gRPC socket speaks mutual
// TLS only: it presents a certificate, and it answers neither a plaintext
// client nor a TLS client without the host's certificate. A plugin built
// with sdk.Serve or ntplugin passes as it is; Client c must have been
// opened with TLS on (the default).
func CheckPrivateChannel(t T, c *sdk.Client) {
	t.Helper()
	addr := c.Addr()
	if addr == nil {
		t.Fatalf("the plugin is not running")
	}
	path := addr.String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(creds credentials.TransportCredentials) error {
		conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(creds))
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "plugin"})
		return err
	}
	if err := dial(insecure.NewCredentials()); err == nil {
		t.Errorf("the plugin's socket %s answered a plaintext gRPC client", path)
	}
	// A TLS client with no certificate of its own sees the server's
	// certificate, which shows the socket speaks TLS, and is turned away.
	var seen []*x509.Certificate
	noCert := &tls.Config{InsecureSkipVerify: true, VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
		for _, r := range raw {
			if cert, err := x509.ParseCertificate(r); err == nil {
				seen = append(seen, cert)
			}
		}
		return nil
	}}
	err := dial(credentials.NewTLS(noCert))
	if err == nil {
		t.Errorf("the plugin's socket %s answered a TLS client without the host's certificate", path)
	}
	if len(seen) == 0 {
		t.Errorf("the plugin's socket %s presented no TLS certificate (%v)", path, err)
	}
	t.Logf("plaintext and certificate-less clients refused; server certificate %q", func() string {
		if len(seen) == 0 {
			return ""
		}
		return seen[0].Subject.String()
	}())
}
