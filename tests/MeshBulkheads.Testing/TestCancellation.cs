namespace MeshBulkheads.Testing;

/// <summary>
/// The running test's cancellation token, for test projects that import this class statically (a global
/// <c>&lt;Using Include="MeshBulkheads.Testing.TestCancellation" Static="true" /&gt;</c> in the .csproj) instead
/// of each class declaring its own alias.
/// </summary>
public static class TestCancellation
{
    /// <summary>xunit's <see cref="TestContext.CancellationToken"/>: cancelled when the run is aborted or the test times out.</summary>
    public static CancellationToken Ct => TestContext.Current.CancellationToken;
}
