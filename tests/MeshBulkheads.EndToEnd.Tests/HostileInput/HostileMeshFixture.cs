using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.EndToEnd.Tests.HostileInput;

/// <summary>
/// A mesh of its own for the hostile-input tests (not the shared functional one: they measure its heap and metric
/// series, which other tests' traffic would disturb), with the shipped gateway's per-route request body limits so
/// the gateway's own size check is in the path, and the four ports as <see cref="HostileTarget"/>s.
/// </summary>
public sealed class HostileMeshFixture : IAsyncLifetime
{
    /// <summary>The shipped gateway routes' MaxRequestBodySize (gateway/appsettings.json): one message plus its 5-byte header.</summary>
    private static readonly Dictionary<string, long> RouteBodyLimits = new()
    {
        ["payments"] = 4101,
        ["reporting"] = 13317,
        ["render"] = 4101,
    };

    public InProcessMesh Mesh { get; private set; } = null!;

    public IReadOnlyDictionary<string, HostileTarget> Targets { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var settings = new InProcessMeshSettings().WithAmpleRateLimits();
        foreach (var (route, limit) in RouteBodyLimits)
        {
            settings.Gateway[$"ReverseProxy:Routes:{route}:MaxRequestBodySize"] = limit.ToString(CultureInfo.InvariantCulture);
        }

        Mesh = await InProcessMesh.StartAsync(settings);
        var payments = PaymentsMethods(Limit(Mesh.Payments));
        var reporting = ReportingMethods(Limit(Mesh.Reporting));
        var render = RenderMethods(Limit(Mesh.Render));
        Targets = new Dictionary<string, HostileTarget>
        {
            ["gateway"] = new("gateway", 0, IsGateway: true, [.. Through("payments", payments), .. Through("reporting", reporting), .. Through("render", render)]),
            ["payments"] = new("payments", 1, IsGateway: false, payments),
            ["reporting"] = new("reporting", 2, IsGateway: false, reporting),
            ["render"] = new("render", 3, IsGateway: false, render, RequiresTenant: false),
        };
    }

    public KestrelHost Host(string port) => port switch
    {
        "gateway" => Mesh.Gateway,
        "payments" => Mesh.Payments,
        "reporting" => Mesh.Reporting,
        "render" => Mesh.Render,
        _ => throw new ArgumentOutOfRangeException(nameof(port), port, null),
    };

    public async ValueTask DisposeAsync()
    {
        if (Mesh is not null)
        {
            await Mesh.DisposeAsync();
        }
    }

    /// <summary>Through the gateway a message must fit the route's body limit as well as the service's.</summary>
    private static IEnumerable<HostileMethod> Through(string route, IReadOnlyList<HostileMethod> methods) =>
        methods.Select(m => m with { MessageLimit = (int)Math.Min(m.MessageLimit, RouteBodyLimits[route] - 5) });

    private static HostileMethod[] PaymentsMethods(int limit) =>
    [
        // The same charge every time (same key, amount and account): the first creates it, the rest replay it.
        HostileMethod.Of("/meshbulkheads.payments.v1.PaymentsService/Charge", ChargeRequest.Parser, _ => new ChargeRequest { AccountId = "acct-0001", AmountMinor = 1, Currency = "USD", IdempotencyKey = "hostile-frame-fixed-key" }, limit),
        HostileMethod.Of("/meshbulkheads.payments.v1.PaymentsService/GetBalance", GetBalanceRequest.Parser, r => new GetBalanceRequest { AccountId = $"acct-{r.Next(1, 101):D4}" }, limit),
        HostileMethod.Of("/meshbulkheads.payments.v1.PaymentsService/ListPayments", ListPaymentsRequest.Parser, r => new ListPaymentsRequest { AccountId = $"acct-{r.Next(1, 101):D4}", PageSize = r.Next(1, 20) }, limit),
    ];

    private static HostileMethod[] ReportingMethods(int limit) =>
    [
        HostileMethod.Of("/meshbulkheads.reporting.v1.ReportingService/BuildReport", BuildReportRequest.Parser, r => new BuildReportRequest { AccountIds = { Enumerable.Range(r.Next(1, 98), r.Next(1, 4)).Select(i => $"acct-{i:D4}") } }, limit),
    ];

    private static HostileMethod[] RenderMethods(int limit)
    {
        // A parsed random request is served only if it costs at most the default render (0 means the default).
        static bool Cheap(RenderRequest r)
        {
            long Effective(int value, int fallback) => value == 0 ? fallback : value;
            return Effective(r.Width, 256) * Effective(r.Height, 256) * Effective(r.Iterations, 200) <= 256L * 256 * 200
                || r.Width < 0 || r.Height < 0 || r.Iterations < 0;
        }

        return
        [
            HostileMethod.Of("/meshbulkheads.render.v1.RenderService/Render", RenderRequest.Parser, r => new RenderRequest { Width = r.Next(1, 17), Height = r.Next(1, 17), Iterations = r.Next(1, 33) }, limit, Cheap),
            HostileMethod.Of("/meshbulkheads.render.v1.RenderService/RenderRows", RenderRequest.Parser, r => new RenderRequest { Width = r.Next(1, 17), Height = r.Next(1, 17), Iterations = r.Next(1, 33) }, limit, Cheap),
        ];
    }

    private static int Limit(KestrelHost host) =>
        host.Services.GetRequiredService<IOptions<GrpcServiceOptions>>().Value.MaxReceiveMessageSize ?? int.MaxValue;
}
