namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>Integration tests with real hosts and databases run one class at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LedgerCollection
{
    public const string Name = "Ledger integration";
}
