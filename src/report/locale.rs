//! The report's own words, dates and numbers in the client's language (`--locale`,
//! `locale = ` in `[[reports]]`): English, French, German, Spanish, Russian. Mention text is
//! never translated.
//!
//! The renderers write English keys; [`tr`] looks them up in [`WORDS`] for the locale in
//! force, and templates with `{name}` placeholders are filled by [`fill`]. The locale is in
//! force for the current thread while a [`Scope`] lives (set by the report builders and
//! renderers), so that the small formatting helpers (numbers, axis dates) need no extra
//! argument; anything not in the table stays English.

use std::cell::Cell;

/// A report language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    En,
    Fr,
    De,
    Es,
    Ru,
}

impl Locale {
    pub fn parse(s: &str) -> Option<Locale> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "en" => Locale::En,
            "fr" => Locale::Fr,
            "de" => Locale::De,
            "es" => Locale::Es,
            "ru" => Locale::Ru,
            _ => return None,
        })
    }

    /// The ISO 639-1 code (the HTML report's `lang`).
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
            Locale::De => "de",
            Locale::Es => "es",
            Locale::Ru => "ru",
        }
    }

    fn column(self) -> Option<usize> {
        match self {
            Locale::En => None,
            Locale::Fr => Some(0),
            Locale::De => Some(1),
            Locale::Es => Some(2),
            Locale::Ru => Some(3),
        }
    }
}

thread_local! {
    static CURRENT: Cell<Locale> = const { Cell::new(Locale::En) };
}

/// Puts a locale in force on this thread until dropped (then the previous one is back).
pub struct Scope(Locale);

pub fn scope(l: Locale) -> Scope {
    Scope(CURRENT.with(|c| c.replace(l)))
}

impl Drop for Scope {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

pub fn current() -> Locale {
    CURRENT.with(Cell::get)
}

/// English key → (French, German, Spanish, Russian).
#[rustfmt::skip]
const WORDS: &[(&str, [&str; 4])] = &[
    ("Executive summary", ["Synthèse", "Zusammenfassung", "Resumen ejecutivo", "Краткий обзор"]),
    ("Key figures", ["Chiffres clés", "Kennzahlen", "Cifras clave", "Ключевые показатели"]),
    ("Volume by sentiment", ["Volume par tonalité", "Volumen nach Stimmung", "Volumen por sentimiento", "Объём по тональности"]),
    ("Reach over time", ["Portée dans le temps", "Reichweite im Zeitverlauf", "Alcance en el tiempo", "Охват во времени"]),
    ("Key topics", ["Sujets clés", "Schlüsselthemen", "Temas clave", "Ключевые темы"]),
    ("Share of voice", ["Part de voix", "Share of Voice", "Cuota de voz", "Доля голоса"]),
    ("Sources", ["Sources", "Quellen", "Fuentes", "Источники"]),
    ("Source", ["Source", "Quelle", "Fuente", "Источник"]),
    ("Share", ["Part", "Anteil", "Cuota", "Доля"]),
    ("Top negative mentions", ["Principales mentions négatives", "Wichtigste negative Erwähnungen", "Principales menciones negativas", "Главные негативные упоминания"]),
    ("Top positive mentions", ["Principales mentions positives", "Wichtigste positive Erwähnungen", "Principales menciones positivas", "Главные позитивные упоминания"]),
    ("Top authors", ["Principaux auteurs", "Wichtigste Autoren", "Principales autores", "Главные авторы"]),
    ("Author", ["Auteur", "Autor", "Autor", "Автор"]),
    ("Alerts in this period", ["Alertes de la période", "Warnungen im Zeitraum", "Alertas del periodo", "Оповещения за период"]),
    ("Fired (UTC)", ["Déclenchée (UTC)", "Ausgelöst (UTC)", "Disparada (UTC)", "Сработало (UTC)"]),
    ("Rule", ["Règle", "Regel", "Regla", "Правило"]),
    ("Kind", ["Type", "Art", "Tipo", "Тип"]),
    ("Observed", ["Observé", "Beobachtet", "Observado", "Наблюдалось"]),
    ("Expected", ["Attendu", "Erwartet", "Esperado", "Ожидалось"]),
    ("Mentions", ["Mentions", "Erwähnungen", "Menciones", "Упоминания"]),
    ("Reach", ["Portée", "Reichweite", "Alcance", "Охват"]),
    ("Net sentiment", ["Tonalité nette", "Netto-Stimmung", "Sentimiento neto", "Чистая тональность"]),
    ("Negative", ["Négatif", "Negativ", "Negativo", "Негатив"]),
    ("Neutral", ["Neutre", "Neutral", "Neutro", "Нейтрально"]),
    ("Positive", ["Positif", "Positiv", "Positivo", "Позитив"]),
    ("Not scored", ["Non évalué", "Nicht bewertet", "Sin evaluar", "Без оценки"]),
    ("No data for this period.", ["Aucune donnée pour cette période.", "Keine Daten für diesen Zeitraum.", "No hay datos para este periodo.", "Нет данных за этот период."]),
    ("No sources.", ["Aucune source.", "Keine Quellen.", "Sin fuentes.", "Нет источников."]),
    ("No mentions.", ["Aucune mention.", "Keine Erwähnungen.", "Sin menciones.", "Нет упоминаний."]),
    ("No authors.", ["Aucun auteur.", "Keine Autoren.", "Sin autores.", "Нет авторов."]),
    ("No alerts.", ["Aucune alerte.", "Keine Warnungen.", "Sin alertas.", "Нет оповещений."]),
    ("No comparison data.", ["Aucune donnée de comparaison.", "Keine Vergleichsdaten.", "Sin datos de comparación.", "Нет данных для сравнения."]),
    ("Query: ", ["Requête : ", "Abfrage: ", "Consulta: ", "Запрос: "]),
    ("Period: ", ["Période : ", "Zeitraum: ", "Periodo: ", "Период: "]),
    ("Generated: ", ["Généré : ", "Erstellt: ", "Generado: ", "Создан: "]),
    ("Characteristic of this period", ["Caractéristique de la période", "Typisch für diesen Zeitraum", "Característico del periodo", "Характерно для периода"]),
    ("In negative mentions", ["Dans les mentions négatives", "In negativen Erwähnungen", "En las menciones negativas", "В негативных упоминаниях"]),
    ("Reputation report: {q}", ["Rapport de réputation : {q}", "Reputationsbericht: {q}", "Informe de reputación: {q}", "Отчёт о репутации: {q}"]),
    ("{n} mentions", ["{n} mentions", "{n} Erwähnungen", "{n} menciones", "{n} упоминаний"]),
    ("{change} vs {period}", ["{change} par rapport à {period}", "{change} ggü. {period}", "{change} frente a {period}", "{change} к периоду: {period}"]),
    ("previous {n} days", ["les {n} jours précédents", "den vorherigen {n} Tagen", "los {n} días anteriores", "предыдущие {n} дн."]),
    ("previous {n} hours", ["les {n} heures précédentes", "den vorherigen {n} Stunden", "las {n} horas anteriores", "предыдущие {n} ч."]),
    ("previous day", ["la veille", "dem Vortag", "el día anterior", "предыдущий день"]),
    ("previous hour", ["l'heure précédente", "der Vorstunde", "la hora anterior", "предыдущий час"]),
    ("previous period", ["la période précédente", "dem vorherigen Zeitraum", "el periodo anterior", "предыдущий период"]),
    ("new", ["nouveau", "neu", "nuevo", "новое"]),
    ("Page {i} of {n}", ["Page {i} sur {n}", "Seite {i} von {n}", "Página {i} de {n}", "Страница {i} из {n}"]),
    ("unknown author", ["auteur inconnu", "unbekannter Autor", "autor desconocido", "неизвестный автор"]),
    // The executive summary.
    ("{q} was mentioned {n} times ({change}), with a potential reach of {reach}.",
     ["{q} a été mentionné {n} fois ({change}), avec une portée potentielle de {reach}.",
      "{q} wurde {n}-mal erwähnt ({change}), mit einer potenziellen Reichweite von {reach}.",
      "{q} fue mencionado {n} veces ({change}), con un alcance potencial de {reach}.",
      "{q}: {n} упоминаний ({change}), потенциальный охват {reach}."]),
    ("{p} % compared with the previous period", ["{p} % par rapport à la période précédente", "{p} % gegenüber dem vorherigen Zeitraum", "{p} % respecto al periodo anterior", "{p} % к предыдущему периоду"]),
    ("none in the previous period", ["aucune lors de la période précédente", "keine im vorherigen Zeitraum", "ninguna en el periodo anterior", "ни одного в предыдущем периоде"]),
    ("as in the previous period", ["comme lors de la période précédente", "wie im vorherigen Zeitraum", "igual que en el periodo anterior", "как в предыдущем периоде"]),
    ("Net sentiment was {n}{before}: {neg} % of the mentions were negative, {pos} % positive.",
     ["La tonalité nette était de {n}{before} : {neg} % des mentions étaient négatives, {pos} % positives.",
      "Die Netto-Stimmung lag bei {n}{before}: {neg} % der Erwähnungen waren negativ, {pos} % positiv.",
      "El sentimiento neto fue {n}{before}: el {neg} % de las menciones fueron negativas y el {pos} % positivas.",
      "Чистая тональность {n}{before}: {neg} % упоминаний негативные, {pos} % позитивные."]),
    (" (previous period: {p})", [" (période précédente : {p})", " (vorheriger Zeitraum: {p})", " (periodo anterior: {p})", " (предыдущий период: {p})"]),
    ("The largest incident was on {when}: {n} negative mentions in one {unit}",
     ["Le plus grand incident a eu lieu le {when} : {n} mentions négatives en une {unit}",
      "Der größte Vorfall war am {when}: {n} negative Erwähnungen an einem {unit}",
      "El mayor incidente fue el {when}: {n} menciones negativas en un {unit}",
      "Крупнейший инцидент — {when}: {n} негативных упоминаний за {unit}"]),
    ("day", ["journée", "Tag", "día", "день"]),
    ("hour", ["heure", "Stunde", "hora", "час"]),
    (", about {terms}", [", à propos de {terms}", ", zu {terms}", ", sobre {terms}", ", о {terms}"]),
    ("The top positive theme was “{t}” ({p} % of the positive mentions).",
     ["Le principal thème positif était « {t} » ({p} % des mentions positives).",
      "Das wichtigste positive Thema war „{t}“ ({p} % der positiven Erwähnungen).",
      "El principal tema positivo fue «{t}» ({p} % de las menciones positivas).",
      "Главная позитивная тема — «{t}» ({p} % позитивных упоминаний)."]),
    ("Share of voice: {list}.", ["Part de voix : {list}.", "Share of Voice: {list}.", "Cuota de voz: {list}.", "Доля голоса: {list}."]),
    ("1 alert was raised in the period.", ["1 alerte a été déclenchée sur la période.", "1 Warnung wurde im Zeitraum ausgelöst.", "Se disparó 1 alerta en el periodo.", "За период сработало 1 оповещение."]),
    ("{n} alerts were raised in the period.", ["{n} alertes ont été déclenchées sur la période.", "{n} Warnungen wurden im Zeitraum ausgelöst.", "Se dispararon {n} alertas en el periodo.", "За период сработало оповещений: {n}."]),
];

/// `s` in the locale in force (English when the table has no entry).
pub fn tr(s: &'static str) -> &'static str {
    let Some(col) = current().column() else {
        return s;
    };
    WORDS
        .iter()
        .find(|(k, _)| *k == s)
        .map_or(s, |(_, t)| t[col])
}

/// `tr(template)` with `{name}` placeholders replaced.
pub fn fill(template: &'static str, args: &[(&str, &str)]) -> String {
    let mut out = tr(template).to_string();
    for (k, v) in args {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// `1234567` with the locale's thousands separator: `1,234,567`, `1 234 567`, `1.234.567`.
pub fn int(n: u64) -> String {
    let sep = match current() {
        Locale::En => ",",
        Locale::Fr | Locale::Ru => "\u{202F}",
        Locale::De | Locale::Es => ".",
    };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(ch);
    }
    out
}

/// A short month name (1-based), in the locale in force.
pub fn month(m: u32) -> &'static str {
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const FR: [&str; 12] = [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ];
    const DE: [&str; 12] = [
        "Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.",
        "Dez.",
    ];
    const ES: [&str; 12] = [
        "ene.", "feb.", "mar.", "abr.", "may.", "jun.", "jul.", "ago.", "sept.", "oct.", "nov.",
        "dic.",
    ];
    const RU: [&str; 12] = [
        "янв.",
        "февр.",
        "март",
        "апр.",
        "май",
        "июнь",
        "июль",
        "авг.",
        "сент.",
        "окт.",
        "нояб.",
        "дек.",
    ];
    let i = (m.clamp(1, 12) - 1) as usize;
    match current() {
        Locale::En => EN[i],
        Locale::Fr => FR[i],
        Locale::De => DE[i],
        Locale::Es => ES[i],
        Locale::Ru => RU[i],
    }
}

/// A short date: `Oct 27` (English), `27 oct.` (others).
pub fn short_date(month_1: u32, day: u32) -> String {
    match current() {
        Locale::En => format!("{} {day:02}", month(month_1)),
        Locale::De => format!("{day}. {}", month(month_1)),
        _ => format!("{day} {}", month(month_1)),
    }
}

/// A date with its year: `Nov 29, 2026` (English), `29 nov. 2026` (others).
pub fn long_date(year: i32, month_1: u32, day: u32) -> String {
    match current() {
        Locale::En => format!("{} {day}, {year}", month(month_1)),
        Locale::De => format!("{day}. {} {year}", month(month_1)),
        _ => format!("{day} {} {year}", month(month_1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_numbers_and_dates_follow_the_scope() {
        assert_eq!(tr("Key figures"), "Key figures");
        assert_eq!(int(1_234_567), "1,234,567");
        {
            let _fr = scope(Locale::Fr);
            assert_eq!(tr("Key figures"), "Chiffres clés");
            assert_eq!(int(1_234_567), "1\u{202F}234\u{202F}567");
            assert_eq!(short_date(10, 27), "27 oct.");
            assert_eq!(
                fill("Page {i} of {n}", &[("i", "2"), ("n", "3")]),
                "Page 2 sur 3"
            );
            {
                let _de = scope(Locale::De);
                assert_eq!(int(1_234_567), "1.234.567");
                assert_eq!(short_date(3, 1), "1. März");
            }
            assert_eq!(tr("No alerts."), "Aucune alerte.");
        }
        assert_eq!(tr("Key figures"), "Key figures");
        assert_eq!(short_date(10, 27), "Oct 27");
        // Every template keeps its placeholders in every language.
        for (k, ts) in WORDS {
            let holes: Vec<&str> = k
                .split('{')
                .skip(1)
                .filter_map(|p| p.split('}').next())
                .collect();
            for t in ts {
                for h in &holes {
                    assert!(
                        t.contains(&format!("{{{h}}}")),
                        "{k:?} → {t:?} lacks {{{h}}}"
                    );
                }
            }
        }
        assert_eq!(Locale::parse("RU"), Some(Locale::Ru));
        assert_eq!(Locale::parse("it"), None);
    }
}
