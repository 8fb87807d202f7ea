using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Diagnostics.Metrics;
using MeshBulkheads.ServiceDefaults.Faults;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace MeshBulkheads.Payments.Tests.Faults;

/// <summary>
/// The faults API on a running payments (docs/faults.md): one PUT makes the database slow or failing or a method
/// fail, the effect is visible in metrics, DELETE (or the expiry) ends it; writes need the admin token.
/// </summary>
public sealed class FaultApiTests : IAsyncLifetime
{
    private const string Token = "fault-api-tests-admin-token-0123456789";
    private readonly PaymentsHostScope _scope = new();
    private KestrelHost _host = null!;

    public async ValueTask InitializeAsync() =>
        _host = await _scope.StartSqliteAsync(new Dictionary<string, string?> { ["Mesh:Admin:Token"] = Token });

    public ValueTask DisposeAsync() => _scope.DisposeAsync();

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("wrong-token-wrong-token-wrong-token-0000", HttpStatusCode.Unauthorized)]
    public async Task Put_WithoutTheAdminToken_RefusedAndNothingChanges(string? token, HttpStatusCode expected)
    {
        // Act
        using var response = await PutAsync("""{"faults":[{"kind":"error","target":"store"}]}""", token);
        var state = await GetStateAsync();

        // Assert
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(0, state.GetProperty("generation").GetInt64());
    }

    [Theory]
    [InlineData("""{"faults":[{"kind":"slow"}]}""", "faults[0].kind: 'slow' is not one of latency, error, cpu")]
    [InlineData("""{"faults":[{"kind":"latency","target":"disk"}]}""", "faults[0].target: 'disk' is not one of server, store, payments-client, render-worker")]
    [InlineData("""{"faults":[{"kind":"latency","latencyMs":0}]}""", "faults[0].latencyMs: between 0 (exclusive) and 30000")]
    [InlineData("""{"faults":[{"kind":"error","status":"OK"}]}""", "faults[0].status: a gRPC status name other than OK")]
    [InlineData("""{"faults":[{"kind":"cpu","cpuMs":5000}]}""", "faults[0].cpuMs: between 0 (exclusive) and 2000")]
    [InlineData("""{"faults":[{"kind":"error","ratio":1.5}]}""", "faults[0].ratio: between 0 (exclusive) and 1")]
    [InlineData("""{"faults":[{"kind":"error","expiresInSeconds":86400}]}""", "faults[0].expiresInSeconds: between 0")]
    [InlineData("""{"faults":[{"kind":"error","methodPrefix":"Charge"}]}""", "faults[0].methodPrefix: a gRPC path prefix")]
    [InlineData("""{"faults":{}}""", "the body is not a faults document")]
    [InlineData("""{}""", "faults: required")]
    [InlineData("""not json""", "the body is not a faults document")]
    public async Task Put_BadDocument_BadRequestNamingTheField(string body, string expected)
    {
        // Act
        using var response = await PutAsync(body, Token);
        var text = await response.Content.ReadAsStringAsync(Ct);

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(expected, text, StringComparison.Ordinal);
        Assert.Equal(0, (await GetStateAsync()).GetProperty("generation").GetInt64());
    }

    [Fact]
    public async Task Put_StoreError_CallsFailUntilDeleteThenServeAgain()
    {
        // Arrange
        var client = PaymentsHostScope.Client(_host, "acme");
        await client.ChargeAsync(PaymentsHostScope.Charge("acct-fault", 100), cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // This host's own generation gauge (its IMeterFactory's meter): the scrape's exposition of it can show another
        // host's, because every host in this test process exports every meter of that name (a CI run saw generation 0).
        using var generation = new MetricCollector<long>(_host.Services.GetRequiredService<IMeterFactory>(), MeshFaults.MeterName, "meshbulkheads.faults.generation");

        // Act
        using var put = await PutAsync("""{"faults":[{"kind":"error","target":"store","status":"UNAVAILABLE"}]}""", Token);
        generation.RecordObservableInstruments();
        var state = await GetStateAsync();
        var failed = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-fault" }, cancellationToken: Ct).ResponseAsync.DefaultTimeout());
        var metrics = await ScrapeAsync();
        using var delete = await SendAsync(HttpMethod.Delete, null, Token);
        var after = await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-fault" }, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(1, state.GetProperty("generation").GetInt64());
        var fault = Assert.Single(state.GetProperty("faults").EnumerateArray());
        Assert.True(fault.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(4));
        Assert.Equal(StatusCode.Unavailable, failed.StatusCode);
        Assert.Equal(FaultTargets.Store, failed.Trailers.GetValue(FaultPipelines.FaultMetadata));
        // The generation as this host's gauge reports it; the series as scraped (the exporter may append a timestamp).
        Assert.Equal(1, generation.LastMeasurement?.Value);
        Assert.NotEmpty(Series(metrics, "meshbulkheads_faults_generation"));
        Assert.Contains(Series(metrics, "meshbulkheads_faults_active"), l =>
            l.Contains("meshbulkheads_fault_kind=\"error\"", StringComparison.Ordinal) && l.Contains("meshbulkheads_fault_target=\"store\"", StringComparison.Ordinal) && Value(l) == "1");
        Assert.Contains(Series(metrics, "meshbulkheads_faults_injected_total"), l =>
            l.Contains("meshbulkheads_fault_kind=\"error\"", StringComparison.Ordinal) && l.Contains("meshbulkheads_fault_target=\"store\"", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.Equal(100, after.BalanceMinor);
        Assert.Equal(2, (await GetStateAsync()).GetProperty("generation").GetInt64());
    }

    [Fact]
    public async Task Put_ServerErrorOnChargeOnly_OtherMethodsServed()
    {
        // Arrange
        var client = PaymentsHostScope.Client(_host, "acme");

        // Act
        using var put = await PutAsync("""{"faults":[{"kind":"error","target":"server","methodPrefix":"/meshbulkheads.payments.v1.PaymentsService/Charge","status":"RESOURCE_EXHAUSTED"}]}""", Token);
        var charge = await Assert.ThrowsAsync<RpcException>(() => client.ChargeAsync(PaymentsHostScope.Charge("acct-fault-2", 5), cancellationToken: Ct).ResponseAsync.DefaultTimeout());
        var balance = await Assert.ThrowsAsync<RpcException>(() => client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-fault-2" }, cancellationToken: Ct).ResponseAsync.DefaultTimeout());

        // Assert: the charge never reached the ledger (the account does not exist), the read was served.
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, charge.StatusCode);
        Assert.Equal(FaultTargets.Server, charge.Trailers.GetValue(FaultPipelines.FaultMetadata));
        Assert.Equal(StatusCode.NotFound, balance.StatusCode);
    }

    [Fact]
    public async Task Put_StoreLatency_EveryCallAtLeastThatSlow()
    {
        // Arrange: a lower bound only (the fault adds at least its latency); the expiry is tested on a fake clock.
        var client = PaymentsHostScope.Client(_host, "acme");
        await client.ChargeAsync(PaymentsHostScope.Charge("acct-slow", 1), cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        using var put = await PutAsync("""{"faults":[{"kind":"latency","target":"store","latencyMs":300,"expiresInSeconds":60}]}""", Token);

        // Act
        var watch = Stopwatch.StartNew();
        await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-slow" }, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
        watch.Stop();

        // Assert
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.True(watch.ElapsedMilliseconds >= 295, $"GetBalance took {watch.ElapsedMilliseconds} ms under a 300 ms store latency fault");
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<HttpResponseMessage> PutAsync(string body, string? token) => SendAsync(HttpMethod.Put, body, token);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string? body, string? token)
    {
        using var admin = _host.CreateAdminClient();
        using var request = new HttpRequestMessage(method, FaultEndpoints.Path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await admin.SendAsync(request, Ct);
    }

    private async Task<JsonElement> GetStateAsync()
    {
        using var admin = _host.CreateAdminClient();
        return JsonDocument.Parse(await admin.GetStringAsync(new Uri(FaultEndpoints.Path, UriKind.Relative), Ct)).RootElement.Clone();
    }

    private static string Value(string line) => line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0];

    private static List<string> Series(string metrics, string name) =>
        [.. metrics.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal))];

    private async Task<string> ScrapeAsync()
    {
        using var admin = _host.CreateAdminClient();
        return await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);
    }
}
