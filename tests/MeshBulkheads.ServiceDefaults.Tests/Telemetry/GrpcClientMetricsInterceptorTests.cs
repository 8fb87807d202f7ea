using MeshBulkheads.ServiceDefaults.Grpc;
using System.Diagnostics.Metrics;
using Grpc.Core.Interceptors;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using GrpcHealth = Grpc.Health.V1.Health;

namespace MeshBulkheads.ServiceDefaults.Tests.Telemetry;

public class GrpcClientMetricsInterceptorTests
{
    private static readonly Method<HealthCheckRequest, HealthCheckResponse> Check = new(
        MethodType.Unary,
        "meshbulkheads.payments.v1.PaymentsService",
        "GetBalance",
        Marshallers.Create<HealthCheckRequest>(_ => [], _ => new HealthCheckRequest()),
        Marshallers.Create<HealthCheckResponse>(_ => [], _ => new HealthCheckResponse()));

    [Theory]
    [InlineData(StatusCode.OK, 250, "OK")]
    [InlineData(StatusCode.Unavailable, 40, "UNAVAILABLE")]
    public async Task AsyncUnaryCall_Completes_RecordsDurationWithTheStatusCode(StatusCode status, int milliseconds, string expected)
    {
        // Arrange
        using var harness = new InterceptorHarness();
        var (time, collector, response) = (harness.Time, harness.Collector, harness.Response);

        // Act: nothing is recorded while the call runs; it completes with its status after the delay.
        using var call = harness.StartPendingCall();
        time.Advance(TimeSpan.FromMilliseconds(milliseconds));
        Assert.Empty(collector.GetMeasurementSnapshot());
        if (status == StatusCode.OK)
        {
            response.SetResult(new HealthCheckResponse());
        }
        else
        {
            response.SetException(new RpcException(new Status(status, "queue full")));
        }

        var thrown = await Record.ExceptionAsync(() => call.ResponseAsync).DefaultTimeout();

        // Assert: the caller still sees the original outcome.
        Assert.Equal(status, thrown is null ? StatusCode.OK : Assert.IsType<RpcException>(thrown).StatusCode);
        var measurement = Assert.Single(collector.GetMeasurementSnapshot());
        Assert.Equal(milliseconds / 1000.0, measurement.Value, precision: 6);
        Assert.Equal("grpc", measurement.Tags["rpc.system"]);
        Assert.Equal("meshbulkheads.payments.v1.PaymentsService", measurement.Tags["rpc.service"]);
        Assert.Equal("GetBalance", measurement.Tags["rpc.method"]);
        Assert.Equal(expected, measurement.Tags["rpc.grpc.status_code"]);
    }

    [Fact]
    public void BlockingUnaryCall_DeadlineExceeded_RecordsDeadlineExceeded()
    {
        // Arrange
        using var harness = new InterceptorHarness();
        var (time, interceptor, collector) = (harness.Time, harness.Interceptor, harness.Collector);

        // Act
        Assert.Throws<RpcException>(() => interceptor.BlockingUnaryCall(new HealthCheckRequest(), Context(), (_, _) =>
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, "deadline"));
        }));

        // Assert
        var measurement = Assert.Single(collector.GetMeasurementSnapshot());
        Assert.Equal(0.1, measurement.Value, precision: 6);
        Assert.Equal("DEADLINE_EXCEEDED", measurement.Tags["rpc.grpc.status_code"]);
    }

    [Fact]
    public async Task AddServiceDefaults_ClientFromAddGrpcClient_RecordsItsCalls()
    {
        // Arrange: a host whose own AddGrpcClient client calls its gRPC port (health service).
        Uri? self = null;
        await using var host = await KestrelHost.StartAsync((args, configure) =>
        {
            var builder = WebApplication.CreateBuilder(args);
            builder.AddServiceDefaults("client-metrics-test", 0, 0);
            builder.Services.AddGrpc(o => o.AddMeshMetricsInterceptor());
            // Registered after AddServiceDefaults, as the services do.
            builder.Services.AddGrpcClient<GrpcHealth.HealthClient>(o => o.Address = self);
            configure?.Invoke(builder);
            var app = builder.Build();
            app.MapDefaultEndpoints();
            return app;
        });
        self = host.Endpoints.Grpc;
        var meterFactory = host.Services.GetRequiredService<IMeterFactory>();
        using var collector = new MetricCollector<double>(meterFactory, GrpcMetrics.MeterName, GrpcClientMetricsInterceptor.InstrumentName);
        var client = host.Services.GetRequiredService<GrpcHealth.HealthClient>();

        // Act
        await client.CheckAsync(
            new HealthCheckRequest { Service = ServiceDefaultsExtensions.LivenessService },
            cancellationToken: TestContext.Current.CancellationToken).ResponseAsync.DefaultTimeout();

        // Assert
        var measurement = Assert.Single(collector.GetMeasurementSnapshot());
        Assert.Equal("grpc.health.v1.Health", measurement.Tags["rpc.service"]);
        Assert.Equal("Check", measurement.Tags["rpc.method"]);
        Assert.Equal("OK", measurement.Tags["rpc.grpc.status_code"]);
        Assert.True(measurement.Value > 0);
    }

    private static ClientInterceptorContext<HealthCheckRequest, HealthCheckResponse> Context() => new(Check, host: null, new CallOptions());

    private static AsyncUnaryCall<HealthCheckResponse> Call(Task<HealthCheckResponse> response) =>
        new(response, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });

    /// <summary>The interceptor on a fake clock and a real meter factory, with a collector on its instrument.</summary>
    private sealed class InterceptorHarness : IDisposable
    {
        private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

        public InterceptorHarness()
        {
            var meterFactory = _services.GetRequiredService<IMeterFactory>();
            Interceptor = new GrpcClientMetricsInterceptor(meterFactory, Time);
            Collector = new MetricCollector<double>(meterFactory, GrpcMetrics.MeterName, GrpcClientMetricsInterceptor.InstrumentName);
        }

        public FakeTimeProvider Time { get; } = new();

        public GrpcClientMetricsInterceptor Interceptor { get; }

        public MetricCollector<double> Collector { get; }

        /// <summary>What the downstream call answers, when the test completes it.</summary>
        public TaskCompletionSource<HealthCheckResponse> Response { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>An async unary call through the interceptor, pending until <see cref="Response"/> completes.</summary>
        public AsyncUnaryCall<HealthCheckResponse> StartPendingCall() =>
            Interceptor.AsyncUnaryCall(new HealthCheckRequest(), Context(), (_, _) => Call(Response.Task));

        public void Dispose()
        {
            Collector.Dispose();
            _services.Dispose();
        }
    }
}
