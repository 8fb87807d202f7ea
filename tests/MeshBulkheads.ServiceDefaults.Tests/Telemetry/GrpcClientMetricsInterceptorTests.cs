using System.Diagnostics.Metrics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Health.V1;
using MeshBulkheads.ServiceDefaults.Telemetry;
using MeshBulkheads.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
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

    [Fact]
    public async Task AsyncUnaryCall_Succeeds_RecordsDurationWithOk()
    {
        // Arrange
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        var time = new FakeTimeProvider();
        var interceptor = new GrpcClientMetricsInterceptor(meterFactory, time);
        using var collector = new MetricCollector<double>(meterFactory, GrpcMetrics.MeterName, GrpcClientMetricsInterceptor.InstrumentName);
        var response = new TaskCompletionSource<HealthCheckResponse>(TaskCreationOptions.RunContinuationsAsynchronously);

        // Act
        using var call = interceptor.AsyncUnaryCall(new HealthCheckRequest(), Context(), (_, _) => Call(response.Task));
        time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.Empty(collector.GetMeasurementSnapshot());
        response.SetResult(new HealthCheckResponse());
        await call.ResponseAsync.DefaultTimeout();

        // Assert
        var measurement = Assert.Single(collector.GetMeasurementSnapshot());
        Assert.Equal(0.25, measurement.Value, precision: 6);
        Assert.Equal("grpc", measurement.Tags["rpc.system"]);
        Assert.Equal("meshbulkheads.payments.v1.PaymentsService", measurement.Tags["rpc.service"]);
        Assert.Equal("GetBalance", measurement.Tags["rpc.method"]);
        Assert.Equal("OK", measurement.Tags["rpc.grpc.status_code"]);
    }

    [Fact]
    public async Task AsyncUnaryCall_Fails_RecordsTheStatusCode()
    {
        // Arrange
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        var time = new FakeTimeProvider();
        var interceptor = new GrpcClientMetricsInterceptor(meterFactory, time);
        using var collector = new MetricCollector<double>(meterFactory, GrpcMetrics.MeterName, GrpcClientMetricsInterceptor.InstrumentName);
        var response = new TaskCompletionSource<HealthCheckResponse>(TaskCreationOptions.RunContinuationsAsynchronously);

        // Act
        using var call = interceptor.AsyncUnaryCall(new HealthCheckRequest(), Context(), (_, _) => Call(response.Task));
        time.Advance(TimeSpan.FromMilliseconds(40));
        response.SetException(new RpcException(new Status(StatusCode.Unavailable, "queue full")));
        var thrown = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        // Assert: the caller still sees the original failure.
        Assert.Equal(StatusCode.Unavailable, thrown.StatusCode);
        var measurement = Assert.Single(collector.GetMeasurementSnapshot());
        Assert.Equal(0.04, measurement.Value, precision: 6);
        Assert.Equal("UNAVAILABLE", measurement.Tags["rpc.grpc.status_code"]);
        Assert.Equal("GetBalance", measurement.Tags["rpc.method"]);
    }

    [Fact]
    public void BlockingUnaryCall_DeadlineExceeded_RecordsDeadlineExceeded()
    {
        // Arrange
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        var time = new FakeTimeProvider();
        var interceptor = new GrpcClientMetricsInterceptor(meterFactory, time);
        using var collector = new MetricCollector<double>(meterFactory, GrpcMetrics.MeterName, GrpcClientMetricsInterceptor.InstrumentName);

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
            builder.Services.AddGrpc();
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
}
