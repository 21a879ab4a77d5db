// A JUnit 5 test against the IngoPay emulator in a container (Testcontainers): its own tenant, a decline scripted
// for that tenant only, a wait for a webhook, and a findings check. Java 17+, with the test dependencies
// org.testcontainers:testcontainers and org.junit.jupiter:junit-jupiter; the image: docker build -t ingopay-emulator .
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.Testcontainers;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

class IngopayEmulatorTest {
    static final GenericContainer<?> EMULATOR = new GenericContainer<>(DockerImageName.parse("ingopay-emulator:latest"))
            .withExposedPorts(8080)
            .withEnv("INGOPAY_EMULATOR_RATE_LIMIT", "0")
            .waitingFor(Wait.forHttp("/_emulator/health").forStatusCode(200));
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final DateTimeFormatter X_DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);
    static HttpServer receiver;
    static String base;

    record Tenant(String username, String secret, String participantId) {}

    @BeforeAll
    static void start() throws Exception {
        // The webhook receiver of the application under test, in miniature: it answers 200.
        receiver = HttpServer.create(new InetSocketAddress(0), 0);
        receiver.createContext("/ingo", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        receiver.start();
        Testcontainers.exposeHostPorts(receiver.getAddress().getPort()); // host.testcontainers.internal:<port>
        EMULATOR.start();
        base = "http://" + EMULATOR.getHost() + ":" + EMULATOR.getMappedPort(8080);
    }

    @AfterAll
    static void stop() {
        EMULATOR.stop();
        receiver.stop(0);
    }

    @Test
    void declinedPayoutThenDeliveredWebhookAndNoFindings() throws Exception {
        // 1. A tenant: a credential with a participant of its own (state, scenarios, findings), removed afterwards.
        String minted = admin("POST", "/_emulator/credentials", "{\"webhook_url\": "
                + "\"http://host.testcontainers.internal:" + receiver.getAddress().getPort() + "/ingo\"}", 201);
        Tenant tenant = new Tenant(field(minted, "username"), field(minted, "secret"), field(minted, "participant_id"));
        try {
            String verified = gateway(tenant, "/gateway/verify", """
                    "account_type": "CA", "participant_unique_id1": "customer-1", "account": "4111111111111111",
                    "expiration_date": "2912", "recipient_first_name": "Jane", "recipient_last_name": "Doe",
                    "recipient_address1": "1 Main St", "recipient_city": "Atlanta", "recipient_state": "GA",
                    "recipient_zip": "30301"
                    """);
            assertEquals("100", field(verified, "status"), verified);
            String token = field(verified, "customer_account_token");

            // 2. A decline for this tenant only: a scenario loaded inactive (names are global: make it unique),
            //    then activated for the tenant's participant.
            String scenario = "decline-" + tenant.username();
            admin("POST", "/_emulator/scenarios", """
                    version: 1
                    scenarios:
                      - name: %s
                        active: false
                        rules:
                          - name: insufficient-funds
                            match: {endpoint: process, participant_unique_id1: {prefix: "decline-"}}
                            respond: {status: 851}
                    """.formatted(scenario), 201, "application/yaml");
            admin("POST", "/_emulator/scenarios/" + scenario + "/activate",
                    "{\"participant_id\": " + tenant.participantId() + "}", 200);
            String declined = gateway(tenant, "/gateway/process", "\"account_type\": \"CA\", \"amount\": 25.0, "
                    + "\"source_of_funds\": 4, \"customer_account_token\": \"" + token + "\", "
                    + "\"participant_unique_id1\": \"decline-1\"");
            assertEquals("851", field(declined, "status"), declined);
            admin("POST", "/_emulator/requests/wait", "{\"match\": {\"participant_id\": " + tenant.participantId()
                    + ", \"rule\": \"" + scenario + "/insufficient-funds\"}, \"count\": 1}", 200);

            // 3. A webhook: amount cents .06 is a bundled magic value (approved; an OFAC "suspended" event, 1106,
            //    at once). Wait for its delivery instead of sleeping; a 409 tells how the deliveries seen differ.
            String paid = gateway(tenant, "/gateway/process", "\"account_type\": \"CA\", \"amount\": 10.06, "
                    + "\"source_of_funds\": 4, \"customer_account_token\": \"" + token + "\", "
                    + "\"participant_unique_id1\": \"payout-1\"");
            assertEquals("100", field(paid, "status"), paid);
            admin("POST", "/_emulator/webhooks/wait", "{\"match\": {\"participant_id\": " + tenant.participantId()
                    + ", \"transaction_id\": " + field(paid, "transaction_id")
                    + ", \"event_status\": 1106, \"status\": \"succeeded\"}, \"timeout\": 10}", 200);

            // 4. Findings: nothing this tenant did would lose money against Ingo.
            String findings = admin("GET", "/_emulator/findings?participant_id=" + tenant.participantId(), null, 200);
            assertEquals("0", field(findings, "count"), findings);
        } finally {
            admin("DELETE", "/_emulator/credentials/" + tenant.username(), null, 200);
        }
    }

    // The emulator's admin API (/_emulator/...): the emulator's own, not Ingo's. Unsigned JSON.
    static String admin(String method, String path, String body, int expected) throws Exception {
        return admin(method, path, body, expected, "application/json");
    }

    static String admin(String method, String path, String body, int expected, String type) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", type)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(expected, response.statusCode(), response.body());
        return response.body();
    }

    // Ingo's gateway: every request signed with Kong hmac-auth, hmac-sha512, as a real client signs it.
    static String gateway(Tenant tenant, String path, String fields) throws Exception {
        byte[] raw = ("{\"participant_id\": " + tenant.participantId() + ", \"timestamp\": "
                + System.currentTimeMillis() / 1000 + ", \"version\": 11, " + fields + "}")
                .getBytes(StandardCharsets.UTF_8);
        String date = X_DATE.format(ZonedDateTime.now(ZoneOffset.UTC));
        String digest = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-512").digest(raw));
        String signed = "POST " + path + " HTTP/1.1\nx-date: " + date + "\ncontent-type: application/json\n"
                + "content-sha512: " + digest + "\ncontent-length: " + raw.length;
        Mac mac = Mac.getInstance("HmacSHA512");
        mac.init(new SecretKeySpec(tenant.secret().getBytes(StandardCharsets.UTF_8), "HmacSHA512"));
        String signature = Base64.getEncoder().encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.UTF_8)));
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path))
                .header("X-Date", date)
                .header("Content-Type", "application/json")
                .header("Content-sha512", digest)
                .header("Authorization", "hmac username=\"" + tenant.username() + "\", algorithm=\"hmac-sha512\", "
                        + "headers=\"request-line x-date content-type content-sha512 content-length\", "
                        + "signature=\"" + signature + "\"")
                .POST(HttpRequest.BodyPublishers.ofByteArray(raw)) // HttpClient sends Content-Length itself
                .build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body();
    }

    // The first value of a key in a JSON answer (a real suite would use its JSON library).
    static String field(String json, String key) {
        Matcher found = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*(\"([^\"]*)\"|-?[0-9.]+)")
                .matcher(json);
        if (!found.find()) {
            throw new AssertionError("no " + key + " in " + json);
        }
        return found.group(2) != null ? found.group(2) : found.group(1);
    }
}
