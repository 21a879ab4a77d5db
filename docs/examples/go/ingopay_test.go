// A Go test against the IngoPay emulator in a container (testcontainers-go v0.33+): its own tenant, a decline
// scripted for that tenant only, a wait for a webhook, and a findings check. The image: docker build -t
// ingopay-emulator . (from the emulator's source tree); then go test ./...
package ingopay_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

type tenant struct {
	Username      string `json:"username"`
	Secret        string `json:"secret"`
	ParticipantID int    `json:"participant_id"`
}

func TestDeclinedPayoutThenDeliveredWebhookAndNoFindings(t *testing.T) {
	ctx := context.Background()
	// The webhook receiver of the application under test, in miniature: it answers 200.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(receiver.Close)
	port := receiver.Listener.Addr().(*net.TCPAddr).Port

	emulator, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:           "ingopay-emulator:latest",
			ExposedPorts:    []string{"8080/tcp"},
			Env:             map[string]string{"INGOPAY_EMULATOR_RATE_LIMIT": "0"},
			WaitingFor:      wait.ForHTTP("/_emulator/health").WithPort("8080/tcp"),
			HostAccessPorts: []int{port}, // host.testcontainers.internal:<port> from inside the container
		},
		Started: true,
	})
	testcontainers.CleanupContainer(t, emulator)
	if err != nil {
		t.Fatal(err)
	}
	base, err := emulator.PortEndpoint(ctx, "8080/tcp", "http")
	if err != nil {
		t.Fatal(err)
	}

	// 1. A tenant: a credential with a participant of its own (state, scenarios, findings), removed afterwards.
	var who tenant
	admin(t, base, "POST", "/_emulator/credentials", 201, &who, map[string]any{
		"webhook_url": fmt.Sprintf("http://%s:%d/ingo", testcontainers.HostInternal, port)})
	t.Cleanup(func() { admin(t, base, "DELETE", "/_emulator/credentials/"+who.Username, 200, nil, nil) })

	verified := gateway(t, base, who, "/gateway/verify", map[string]any{
		"account_type": "CA", "participant_unique_id1": "customer-1", "account": "4111111111111111",
		"expiration_date": "2912", "recipient_first_name": "Jane", "recipient_last_name": "Doe",
		"recipient_address1": "1 Main St", "recipient_city": "Atlanta", "recipient_state": "GA",
		"recipient_zip": "30301"})
	if verified.Status != 100 {
		t.Fatalf("verify: %+v", verified)
	}
	token := verified.Data["customer_account_token"]

	// 2. A decline for this tenant only: a scenario loaded inactive (names are global: make it unique), then
	//    activated for the tenant's participant.
	scenario := "decline-" + who.Username
	admin(t, base, "POST", "/_emulator/scenarios", 201, nil, `version: 1
scenarios:
  - name: `+scenario+`
    active: false
    rules:
      - name: insufficient-funds
        match: {endpoint: process, participant_unique_id1: {prefix: "decline-"}}
        respond: {status: 851}
`)
	admin(t, base, "POST", "/_emulator/scenarios/"+scenario+"/activate", 200, nil,
		map[string]any{"participant_id": who.ParticipantID})
	declined := gateway(t, base, who, "/gateway/process", map[string]any{"account_type": "CA", "amount": 25.0,
		"source_of_funds": 4, "customer_account_token": token, "participant_unique_id1": "decline-1"})
	if declined.Status != 851 {
		t.Fatalf("expected a decline: %+v", declined)
	}
	admin(t, base, "POST", "/_emulator/requests/wait", 200, nil, map[string]any{"count": 1,
		"match": map[string]any{"participant_id": who.ParticipantID, "rule": scenario + "/insufficient-funds"}})

	// 3. A webhook: amount cents .06 is a bundled magic value (approved; an OFAC "suspended" event, 1106, at once).
	//    Wait for its delivery instead of sleeping; a 409 tells how the deliveries seen differ.
	paid := gateway(t, base, who, "/gateway/process", map[string]any{"account_type": "CA", "amount": 10.06,
		"source_of_funds": 4, "customer_account_token": token, "participant_unique_id1": "payout-1"})
	if paid.Status != 100 {
		t.Fatalf("expected an approval: %+v", paid)
	}
	admin(t, base, "POST", "/_emulator/webhooks/wait", 200, nil, map[string]any{"timeout": 10,
		"match": map[string]any{"participant_id": who.ParticipantID, "transaction_id": paid.Data["transaction_id"],
			"event_status": 1106, "status": "succeeded"}})

	// 4. Findings: nothing this tenant did would lose money against Ingo.
	var findings struct {
		Count    int              `json:"count"`
		Findings []map[string]any `json:"findings"`
	}
	admin(t, base, "GET", fmt.Sprintf("/_emulator/findings?participant_id=%d", who.ParticipantID), 200, &findings, nil)
	if findings.Count != 0 {
		t.Fatalf("findings: %+v", findings.Findings)
	}
}

// admin calls the emulator's admin API (/_emulator/...): the emulator's own, not Ingo's. Unsigned JSON; a string
// body is sent as YAML (a scenario upload).
func admin(t *testing.T, base, method, path string, expected int, answer, body any) {
	t.Helper()
	var payload []byte
	kind := "application/json"
	if text, ok := body.(string); ok {
		payload, kind = []byte(text), "application/yaml"
	} else if body != nil {
		payload, _ = json.Marshal(body)
	}
	request, _ := http.NewRequest(method, base+path, bytes.NewReader(payload))
	request.Header.Set("Content-Type", kind)
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	raw, _ := io.ReadAll(response.Body)
	if response.StatusCode != expected {
		t.Fatalf("%s %s: %d %s", method, path, response.StatusCode, raw)
	}
	if answer != nil {
		if err := json.Unmarshal(raw, answer); err != nil {
			t.Fatal(err)
		}
	}
}

type reply struct {
	Status int            `json:"status"`
	Data   map[string]any `json:"data"`
}

// gateway sends a request to Ingo's gateway, signed with Kong hmac-auth, hmac-sha512, as a real client signs it.
func gateway(t *testing.T, base string, who tenant, path string, fields map[string]any) reply {
	t.Helper()
	fields["participant_id"], fields["timestamp"], fields["version"] = who.ParticipantID, time.Now().Unix(), 11
	raw, _ := json.Marshal(fields)
	date := time.Now().UTC().Format(http.TimeFormat)
	sum := sha512.Sum512(raw)
	digest := base64.StdEncoding.EncodeToString(sum[:])
	signed := strings.Join([]string{"POST " + path + " HTTP/1.1", "x-date: " + date, "content-type: application/json",
		"content-sha512: " + digest, fmt.Sprintf("content-length: %d", len(raw))}, "\n")
	mac := hmac.New(sha512.New, []byte(who.Secret))
	mac.Write([]byte(signed))
	signature := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	request, _ := http.NewRequest("POST", base+path, bytes.NewReader(raw)) // Content-Length: set from the body
	request.Header.Set("X-Date", date)
	request.Header.Set("Content-Type", "application/json")
	request.Header.Set("Content-sha512", digest)
	request.Header.Set("Authorization", fmt.Sprintf(`hmac username="%s", algorithm="hmac-sha512", `+
		`headers="request-line x-date content-type content-sha512 content-length", signature="%s"`,
		who.Username, signature))
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var got reply
	if err := json.NewDecoder(response.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return got
}
