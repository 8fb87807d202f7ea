namespace MeshBulkheads.Payments.Tests;

/// <summary>
/// What the tests on real payments hosts share: a <see cref="PaymentsHostScope"/> for the test's hosts
/// (stopped, their data deleted, when the test ends), the demo tenant their clients send, and the test's
/// cancellation token.
/// </summary>
public abstract class PaymentsHostTests : IAsyncDisposable
{
    protected const string Tenant = DemoTenants.Acme;

    protected PaymentsHostScope Scope { get; } = new();

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public virtual async ValueTask DisposeAsync()
    {
        await Scope.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
