package kunlun.searchengine;

import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * The "english" analyzer. Elasticsearch ships it in its analysis-common module, which is not
 * published to Maven Central; this registers the same Lucene EnglishAnalyzer (English stop
 * words, possessive filter, Porter stemmer) under the same name.
 */
public class EnglishAnalysisPlugin extends Plugin implements AnalysisPlugin {
    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
        return Map.of("english", (indexSettings, env, name, settings) ->
            new AbstractIndexAnalyzerProvider<EnglishAnalyzer>(name, settings) {
                private final EnglishAnalyzer analyzer =
                    new EnglishAnalyzer(EnglishAnalyzer.getDefaultStopSet(), CharArraySet.EMPTY_SET);

                @Override
                public EnglishAnalyzer get() {
                    return analyzer;
                }
            });
    }
}
