using MeshBulkheads.ServiceDefaults.Identity;
using Grpc.AspNetCore.Server;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.ServiceDefaults.Grpc;
using Grpc.Core.Interceptors;

namespace MeshBulkheads.ServiceDefaults.Tests.Grpc;

public class MeshInterceptorsTests
{
    [Fact]
    public void AddMeshInterceptors_WithRequestChecks_MetricsThenIdentityThenChecksThenDeadlineThenBulkheadThenFaults()
    {
        // Arrange
        var options = new GrpcServiceOptions();

        // Act
        options.AddMeshInterceptors(checks => checks.Add<RequestCheck>());

        // Assert
        Assert.Equal(
            [typeof(GrpcServerMetricsInterceptor), typeof(MeshIdentityInterceptor), typeof(RequestCheck), typeof(DeadlineInterceptor), typeof(BulkheadInterceptor), typeof(MeshBulkheads.ServiceDefaults.Faults.FaultInterceptor)],
            options.Interceptors.Select(r => r.Type));
    }

    [Fact]
    public void AddMeshMetricsInterceptor_Alone_AddsOnlyTheMetricsInterceptor()
    {
        // Arrange
        var options = new GrpcServiceOptions();

        // Act
        options.AddMeshMetricsInterceptor();

        // Assert
        Assert.Equal([typeof(GrpcServerMetricsInterceptor)], options.Interceptors.Select(r => r.Type));
    }

    private sealed class RequestCheck : Interceptor
    {
    }
}
