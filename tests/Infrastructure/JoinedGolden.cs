using System.Globalization;
using System.Text.Json;
using LowLatency.Features.Serving;

namespace LowLatency.Tests.Infrastructure;

/// <summary>
/// The candidate ranker's golden (<c>models/candidate-ranker/golden-joined/joined.json</c>): rows to
/// push, a request of entity ids, the tensors the join must build and PyTorch's answer over them.
/// </summary>
public sealed record JoinedGolden(
    IReadOnlyList<(string Source, Dictionary<string, JsonElement> Df)> Pushes,
    InferDoc Request,
    IReadOnlyList<TensorDoc> JoinedInputs,
    string ExpectedStatuses,
    IReadOnlyList<TensorDoc> Expected)
{
    public const string Model = "candidate-ranker";

    public static JoinedGolden Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Models, Model, "golden-joined", "joined.json")));
        var root = doc.RootElement;
        var pushes = root.GetProperty("push").EnumerateArray()
            .Select(p => (p.GetProperty("push_source_name").GetString()!, p.GetProperty("df").EnumerateObject().ToDictionary(c => c.Name, c => c.Value.Clone())))
            .ToList();
        var req = root.GetProperty("request");
        return new JoinedGolden(
            pushes,
            new InferDoc(req.GetProperty("id").GetString(), req.GetProperty("inputs").EnumerateArray().Select(Wire.Tensor).ToList()),
            root.GetProperty("joined_inputs").EnumerateArray().Select(Wire.Tensor).ToList(),
            root.GetProperty("expected_feature_statuses").GetString()!,
            root.GetProperty("expected_outputs").EnumerateArray().Select(Wire.Tensor).ToList());
    }

    /// <summary>Adds <paramref name="doc"/>'s inputs (entity ids and request-time inputs) to a request, by name.</summary>
    public static LowLatency.Engine.Requests.InferenceRequest Fill(LowLatency.Engine.Requests.InferenceRequest r, InferDoc doc)
    {
        foreach (var t in doc.Inputs)
        {
            int index = r.Config.InputIndex(t.Name);
            Assert.True(index >= 0, t.Name);
            Wire.Encode(t.Datatype, t.Values).CopyTo(r.AddInput(index, r.Config.InputSpec(index).DataType, t.Shape));
        }

        return r;
    }

    /// <summary>The golden's pushes, event time <paramref name="at"/> on every row.</summary>
    public IEnumerable<PushRequest> PushRequests(DateTimeOffset at) => Pushes.Select(p =>
    {
        var df = p.Df.ToDictionary(c => c.Key, c => (IReadOnlyList<object?>)c.Value.EnumerateArray().Select(v => (object?)v).ToList());
        int rows = df.Values.First().Count;
        df["event_timestamp"] = Enumerable.Repeat((object?)at.ToString("O", CultureInfo.InvariantCulture), rows).ToList();
        return new PushRequest { PushSourceName = p.Source, Df = df };
    });
}
