using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Concurrency.Rejections;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace MeshBulkheads.Concurrency.Tests.Deadlines;

/// <summary>The one resolver the gateway and the services share: header + resolved method + now → deadline or rejection.</summary>
public sealed class DeadlineResolverTests
{
    private const string Charge = "/meshbulkheads.payments.v1.PaymentsService/Charge";
    private const string GetBalance = "/meshbulkheads.payments.v1.PaymentsService/GetBalance";

    private static readonly DeadlinePolicyOptions Policies = new()
    {
        AllMethods = new DeadlineOptions { Default = TimeSpan.FromSeconds(5), Max = TimeSpan.FromSeconds(30) },
        Methods =
        {
            ["/meshbulkheads.payments.v1.PaymentsService/"] = new DeadlineOptions { Default = TimeSpan.FromSeconds(2), Max = TimeSpan.FromSeconds(10) },
            [Charge] = new DeadlineOptions { Default = TimeSpan.FromSeconds(5), Max = TimeSpan.FromSeconds(30) },
        },
    };

    [Theory]
    [InlineData(GetBalance, 2)]
    [InlineData(Charge, 5)]
    [InlineData("/meshbulkheads.render.v1.RenderService/Render", 5)]
    public void Resolve_NoHeader_LongestPrefixDefaultFromNow(string method, int expectedSeconds)
    {
        // Arrange
        var time = new FakeTimeProvider();
        var resolver = new DeadlineResolver(Options.Create(Policies), time);

        // Act
        var resolution = resolver.Resolve(method, StringValues.Empty);

        // Assert
        Assert.Null(resolution.Rejection);
        Assert.Equal(DeadlineSource.Default, resolution.Source);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), resolution.Timeout);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(expectedSeconds), resolution.Deadline);
    }

    [Theory]
    [InlineData("1500m", 1.5, DeadlineSource.Header)]
    [InlineData("11S", 10, DeadlineSource.Clamped)]
    [InlineData("5M", 10, DeadlineSource.Clamped)]
    public void Resolve_ValidHeader_HonouredUpToTheMethodsMax(string header, double expectedSeconds, DeadlineSource expectedSource)
    {
        // Arrange
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        // Act
        var resolution = DeadlineResolver.Resolve(Policies.Resolve(GetBalance), new StringValues(header), now);

        // Assert
        Assert.Null(resolution.Rejection);
        Assert.Equal(expectedSource, resolution.Source);
        Assert.Equal(now + TimeSpan.FromSeconds(expectedSeconds), resolution.Deadline);
    }

    [Theory]
    [InlineData("0m")]
    [InlineData("-5S")]
    public void Resolve_ZeroOrNegative_DeadlineExceededRejection(string header)
    {
        // Act
        var resolution = DeadlineResolver.Resolve(Policies.AllMethods, new StringValues(header), DateTimeOffset.UnixEpoch);

        // Assert
        var rejection = Assert.IsType<MeshRejection>(resolution.Rejection);
        Assert.Equal(StatusCode.DeadlineExceeded, rejection.Status);
        Assert.Equal(MeshRejectReasons.DeadlineExceeded, rejection.Reason);
        Assert.Null(rejection.RetryAfter);
        Assert.Contains($"grpc-timeout '{header}' leaves no time", rejection.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_MalformedOrSentTwice_InvalidArgumentRejection()
    {
        // Act
        var malformed = DeadlineResolver.Resolve(Policies.AllMethods, new StringValues("5x"), DateTimeOffset.UnixEpoch);
        var twice = DeadlineResolver.Resolve(Policies.AllMethods, new StringValues(["1S", "2S"]), DateTimeOffset.UnixEpoch);

        // Assert
        foreach (var resolution in new[] { malformed, twice })
        {
            var rejection = Assert.IsType<MeshRejection>(resolution.Rejection);
            Assert.Equal(StatusCode.InvalidArgument, rejection.Status);
            Assert.Equal(MeshRejectReasons.MalformedGrpcTimeout, rejection.Reason);
        }

        Assert.Contains("grpc-timeout '5x' is malformed", malformed.Rejection!.Message, StringComparison.Ordinal);
    }
}
