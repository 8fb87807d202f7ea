namespace MeshBulkheads.EndToEnd.Tests.Diagnosis;

/// <summary>
/// The diagnosis playbook's tests share one mesh (four child processes, payments on PostgreSQL), one
/// Prometheus scraping it, and run one at a time: each produces a symptom and must not see another's.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DiagnosisCollection : ICollectionFixture<DiagnosisMesh>
{
    public const string Name = "Diagnosis";
}
