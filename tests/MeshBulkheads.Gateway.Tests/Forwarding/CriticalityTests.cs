namespace MeshBulkheads.Gateway.Tests.Forwarding;

/// <summary><c>x-mesh-criticality</c> sent by a client, through the real gateway.</summary>
public class CriticalityTests
{
    [Theory]
    [InlineData("urgent")]
    [InlineData("CRITICAL-ish")]
    public async Task GetBalance_UnknownCriticalityFromClient_InvalidArgumentAndNeverForwarded(string value)
    {
        // Act
        var (error, forwarded) = await GetBalanceClaimingAsync(value);

        // Assert
        Assert.NotNull(error);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(MeshRejectReasons.InvalidCriticality, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Contains($"got '{value}'", error.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(forwarded);
    }

    [Theory]
    [InlineData("critical")]
    [InlineData("Sheddable")]
    public async Task GetBalance_KnownCriticalityFromClient_OverwrittenByTheGatewaysOwn(string value)
    {
        // Act
        var (error, forwarded) = await GetBalanceClaimingAsync(value);

        // Assert: GetBalance is sheddable whatever the client claims.
        Assert.Null(error);
        Assert.Equal([CriticalityHeader.Sheddable], Assert.Single(forwarded).Values(MeshMetadata.Criticality));
    }

    /// <summary>
    /// One GetBalance as acme claiming <paramref name="criticality"/>, through a real gateway in front of a fake
    /// payments; returns the call's error (null when it succeeded) and what the backend received.
    /// </summary>
    private static async Task<(RpcException? Error, IReadOnlyCollection<RecordedCall> Forwarded)> GetBalanceClaimingAsync(string criticality)
    {
        await using var payments = await FakeBackend.StartAsync<FakePaymentsService>();
        await using var gateway = await GatewayHost.StartPaymentsOnlyAsync(payments.Address);
        var client = new PaymentsService.PaymentsServiceClient(gateway.CreateChannel());
        var headers = DemoTenants.AcmeHeaders;
        headers.Add(MeshMetadata.Criticality, criticality);
        try
        {
            await client.GetBalanceAsync(new GetBalanceRequest { AccountId = "acct-0001" }, headers, cancellationToken: Ct).ResponseAsync.DefaultTimeout();
            return (null, payments.Calls);
        }
        catch (RpcException error)
        {
            return (error, payments.Calls);
        }
    }
}
