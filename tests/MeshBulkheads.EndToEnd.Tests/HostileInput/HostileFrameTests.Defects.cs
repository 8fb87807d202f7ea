using System.Net;
using System.Net.Http.Headers;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.ServiceDefaults.Hosting;

namespace MeshBulkheads.EndToEnd.Tests.HostileInput;

/// <summary>
/// The defects the fuzzer found (issue 15, K1–K3, docs/security.md), each pinned by a focused test on the same mesh;
/// the fuzz oracle no longer tolerates any of them.
/// </summary>
public sealed partial class HostileFrameTests
{
    private const string Charge = "/meshbulkheads.payments.v1.PaymentsService/Charge";
    private const string GetBalance = "/meshbulkheads.payments.v1.PaymentsService/GetBalance";
    private const string BuildReport = "/meshbulkheads.reporting.v1.ReportingService/BuildReport";
    private const string Render = "/meshbulkheads.render.v1.RenderService/Render";

    /// <summary>Port, method, the whole request body in hex, the status and a piece of its message.</summary>
    public static TheoryData<string, string, string, StatusCode, string> UndecodableBodies => new()
    {
        // Field number 0.
        { "payments", Charge, "00" + "00000002" + "0001", StatusCode.Internal, "could not be parsed" },
        // Wire type 7.
        { "reporting", BuildReport, "00" + "00000001" + "0F", StatusCode.Internal, "could not be parsed" },
        // An 11-byte varint.
        { "render", Render, "00" + "0000000C" + "08" + "FFFFFFFFFFFFFFFFFFFF" + "01", StatusCode.Internal, "could not be parsed" },
        // Compressed flag 2 (neither identity nor compressed).
        { "payments", GetBalance, "02" + "00000002" + "0801", StatusCode.Internal, "compressed flag is 2" },
        { "render", Render, "07" + "00000002" + "0801", StatusCode.Internal, "compressed flag is 7" },
        // A length prefix over int.MaxValue: what any prefix over MaxReceiveMessageSize is.
        { "payments", Charge, "00" + "FFFFFFFF" + "00", StatusCode.ResourceExhausted, "exceeds the maximum" },
        { "reporting", BuildReport, "00" + "80000000" + "00", StatusCode.ResourceExhausted, "exceeds the maximum" },
        // Through the gateway: forwarded as bytes, answered by the service.
        { "gateway", Charge, "00" + "00000002" + "0001", StatusCode.Internal, "could not be parsed" },
        { "gateway", BuildReport, "00" + "00000001" + "0F", StatusCode.Internal, "could not be parsed" },
        { "gateway", GetBalance, "02" + "00000002" + "0801", StatusCode.Internal, "compressed flag is 2" },
    };

    [Theory]
    [MemberData(nameof(UndecodableBodies))]
    public async Task UndecodableRequest_OnPort_InternalOrResourceExhaustedNamingTheCause(string port, string path, string hex, StatusCode expected, string cause)
    {
        // Arrange: K1. grpc-dotnet decodes the request before any interceptor (identity included) and answered UNKNOWN.
        var credentials = port == "gateway" ? new KeyValuePair<string, string>(MeshMetadata.ApiKey, DemoTenants.AcmeKey) : new(MeshMetadata.TenantId, DemoTenants.Acme);

        // Act
        var outcome = await SendAsync(port, path, [credentials, new(MeshMetadata.GrpcTimeout, "4S")], Convert.FromHexString(hex));

        // Assert
        Assert.True(outcome is { HttpStatus: 200 } && outcome.Grpc == expected, $"{port} {path} {hex}: {outcome}");
        Assert.Contains(cause, outcome.GrpcMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception was thrown by handler", outcome.GrpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizedHeaderBlock_ThroughGateway_ResourceExhaustedFromTheGatewayNotBackendUnavailable()
    {
        // Arrange: K2. One header that fits the gateway's own Kestrel limit (32 KB) but not, with what the gateway adds,
        // the backend's: the forwarder refused to send it and the caller got UNAVAILABLE "backend … unavailable (Request)".
        var method = fixture.Targets["gateway"].Methods.First(m => m.Path == GetBalance);
        using var client = CreateRawClient();

        // Act
        using var response = await SendRawAsync(client, HttpMethod.Post, GetBalance, "application/grpc", [new(MeshMetadata.ApiKey, DemoTenants.AcmeKey), new("x-padding", new string('p', (32 * 1024) - 700))], HostileFrameGenerator.Frame(0, method.Valid(new Random(1))));

        // Assert
        var (code, message) = GrpcStatus(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK && code == StatusCode.ResourceExhausted, $"HTTP {(int)response.StatusCode} grpc-status {code} '{message}'");
        Assert.Equal("request-headers-too-large", Header(response, MeshMetadata.RejectReason));
        Assert.Equal("-1", Header(response, MeshMetadata.RetryPushbackMs));
    }

    [Fact]
    public async Task HeaderBlockAtTheForwardingLimit_ThroughGatewayToBuildReport_ServedAndOneByteMoreRefused()
    {
        // Arrange: the headroom for what the gateway adds is enough for the call it adds most to (two identity tokens).
        var method = fixture.Targets["gateway"].Methods.First(m => m.Path == BuildReport);
        var body = HostileFrameGenerator.Frame(0, method.Valid(new Random(1)));
        using var client = CreateRawClient();
        const int Probe = 30 * 1024;
        using var probe = await SendRawAsync(client, HttpMethod.Post, BuildReport, "application/grpc", Padded(Probe), body);
        // The gateway names the size it counted: from it, the padding that makes the block exactly its limit.
        var counted = long.Parse(GrpcStatus(probe).Message!.Split("request headers too large: ")[1].Split(' ')[0], CultureInfo.InvariantCulture);
        var atLimit = Probe - (int)(counted - MeshRequestLimits.GatewayForwardedHeadersTotalSize);

        // Act
        using var served = await SendRawAsync(client, HttpMethod.Post, BuildReport, "application/grpc", Padded(atLimit), body);
        using var refused = await SendRawAsync(client, HttpMethod.Post, BuildReport, "application/grpc", Padded(atLimit + 1), body);

        // Assert
        Assert.Equal(StatusCode.OK, GrpcStatus(served).Code);
        Assert.Equal(StatusCode.ResourceExhausted, GrpcStatus(refused).Code);
        Assert.Equal("request-headers-too-large", Header(refused, MeshMetadata.RejectReason));

        static List<KeyValuePair<string, string>> Padded(int length) => [new(MeshMetadata.ApiKey, DemoTenants.AcmeKey), new("x-padding", new string('p', length))];
    }

    /// <summary>
    /// HTTP method, content type, and what a service answers such a request: 404 for a method other than POST (routing
    /// finds no endpoint: grpc-dotnet's unknown-method catch-all takes any method in routing and refuses it in its
    /// constraint), 415 from grpc-dotnet for a content type that is not application/grpc.
    /// </summary>
    public static TheoryData<string, string?, int> NonGrpcRequests => new()
    {
        { "PUT", "application/grpc", 404 },
        { "DELETE", "application/grpc", 404 },
        { "PATCH", null, 404 },
        { "POST", "text/plain", 415 },
        { "POST", "application/json", 415 },
        { "POST", "application/grpc-web", 415 },
        { "POST", null, 415 },
    };

    [Theory]
    [MemberData(nameof(NonGrpcRequests))]
    public async Task NonGrpcRequest_ThroughGateway_AnsweredByTheGatewayAsTheServiceAnswersItEveryTime(string httpMethod, string? contentType, int expected)
    {
        // Arrange: K3. The backend refused such a request before reading its body, and YARP's body copy failed first in
        // about 0.5 % of them (502 / RequestBodyDestination). The gateway now answers itself, so every answer is the same.
        var method = fixture.Targets["gateway"].Methods.First(m => m.Path == Charge);
        var body = HostileFrameGenerator.Frame(0, method.Valid(new Random(1)));
        using var client = CreateRawClient();
        using var direct = CreateRawClient(fixture.Host("payments"));
        using var service = await SendRawAsync(direct, new HttpMethod(httpMethod), Charge, contentType, [new(MeshMetadata.TenantId, DemoTenants.Acme)], body);

        // Act
        var answers = new (HttpStatusCode Status, string? Reason)[200];
        await Parallel.ForEachAsync(Enumerable.Range(0, answers.Length), new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = TestContext.Current.CancellationToken }, async (i, _) =>
        {
            using var response = await SendRawAsync(client, new HttpMethod(httpMethod), Charge, contentType, [new(MeshMetadata.ApiKey, DemoTenants.AcmeKey)], body);
            answers[i] = (response.StatusCode, Header(response, MeshMetadata.RejectReason));
        });

        // Assert
        Assert.True(expected == (int)service.StatusCode, $"payments answered {httpMethod} {contentType ?? "(none)"} with HTTP {(int)service.StatusCode} grpc-status {GrpcStatus(service)}");
        var distinct = answers.Distinct().ToList();
        Assert.True(distinct.Count == 1, $"{httpMethod} {contentType ?? "(none)"}: {string.Join("; ", answers.GroupBy(a => a).Select(g => $"{g.Count()}× {g.Key}"))}");
        Assert.Equal(((HttpStatusCode)expected, "not-grpc"), distinct[0]);
    }

    private HttpClient CreateRawClient(KestrelHost? host = null) => new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
    {
        BaseAddress = new Uri((host ?? fixture.Host("gateway")).Endpoints.Grpc.GetLeftPart(UriPartial.Authority)),
        DefaultRequestVersion = System.Net.HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = CaseTimeout,
    };

    private static async Task<HttpResponseMessage> SendRawAsync(HttpClient client, HttpMethod method, string path, string? contentType, List<KeyValuePair<string, string>> headers, byte[] body)
    {
        using var request = new HttpRequestMessage(method, path) { Version = System.Net.HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact, Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation(MeshMetadata.GrpcTimeout, "4S");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        // The body to its end: a gRPC status may come in the trailers.
        await response.Content.LoadIntoBufferAsync(TestContext.Current.CancellationToken);
        return response;
    }

    private static (StatusCode? Code, string? Message) GrpcStatus(HttpResponseMessage response)
    {
        var status = Header(response, "grpc-status") ?? (response.TrailingHeaders.TryGetValues("grpc-status", out var t) ? string.Join(",", t) : null);
        var message = Header(response, "grpc-message") ?? (response.TrailingHeaders.TryGetValues("grpc-message", out var m) ? string.Join(",", m) : null);
        return (status is null ? null : (StatusCode)int.Parse(status, CultureInfo.InvariantCulture), message is null ? null : Uri.UnescapeDataString(message));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;
}
