//! Dossier search as one SQL statement built with sea-query, so SQLite and
//! PostgreSQL run the same plan shape.
//!
//! Name-substring search uses a bigram index (`customer_name_grams`): Chinese
//! names are 2-4 characters, so bigrams find a 2-character query by one index
//! lookup, where `LIKE '%..%'` would scan every customer. Longer queries
//! intersect their bigrams and confirm with LIKE; a 1-character query falls
//! back to LIKE alone.

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use super::codec::{ID_NUMBER, PHONE};
use super::entities::{customer, document, dossier, name_gram, party, unit};
use crate::crypto::Crypto;
use crate::domain::checklist::Condition as ChecklistCondition;
use crate::domain::model::{CustomerKind, DocumentStatus, PartyRole};
use crate::domain::store::DossierQuery;

/// The bigrams of a name, lower-cased, without duplicates; a one-character
/// name is its own gram.
pub fn name_grams(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.trim().to_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    let mut out: Vec<String> = if chars.len() < 2 {
        chars.iter().map(|c| c.to_string()).collect()
    } else {
        chars.windows(2).map(|w| w.iter().collect()).collect()
    };
    out.sort();
    out.dedup();
    out
}

fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `dossiers.id IN (SELECT dossier_id FROM dossier_parties WHERE customer_id IN (customers))`.
fn party_of(customers: SelectStatement) -> Condition {
    Condition::all().add(
        dossier::Column::Id.in_subquery(
            Query::select()
                .column(party::Column::DossierId)
                .from(party::Entity)
                .and_where(party::Column::CustomerId.in_subquery(customers))
                .to_owned(),
        ),
    )
}

fn documents_of_type_exist(doc_type: &str) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(document::Entity)
            .and_where(
                Expr::col((document::Entity, document::Column::DossierId))
                    .equals((dossier::Entity, dossier::Column::Id)),
            )
            .and_where(document::Column::DocType.eq(doc_type))
            .and_where(document::Column::Status.ne(DocumentStatus::Withdrawn.as_str()))
            .to_owned(),
    )
}

fn condition_holds(c: ChecklistCondition) -> Expr {
    let mut parties = Query::select();
    parties
        .expr(Expr::val(1))
        .from(party::Entity)
        .and_where(Expr::col((party::Entity, party::Column::DossierId)).equals((dossier::Entity, dossier::Column::Id)));
    match c {
        ChecklistCondition::CompanyOwner => {
            parties.and_where(party::Column::Role.eq(PartyRole::Owner.as_str())).and_where(
                party::Column::CustomerId.in_subquery(
                    Query::select()
                        .column(customer::Column::Id)
                        .from(customer::Entity)
                        .and_where(customer::Column::Kind.eq(CustomerKind::Company.as_str()))
                        .to_owned(),
                ),
            );
        }
        ChecklistCondition::AgentParty => {
            parties.and_where(party::Column::Role.eq(PartyRole::Agent.as_str()));
        }
    }
    Expr::exists(parties.to_owned())
}

/// The ids of the units an address filter names (building, and optionally
/// unit and room). Resolved in a query of its own so that the dossier query
/// filters on a short literal list: without table statistics SQLite would
/// rather walk all dossiers in id order than use the unit index for a subquery.
pub fn units_of(q: &DossierQuery) -> Option<Select<unit::Entity>> {
    let b = q.building.as_ref()?;
    let mut sel = unit::Entity::find().filter(unit::Column::Building.eq(b.as_str()));
    if let Some(site) = q.site_id {
        sel = sel.filter(unit::Column::SiteId.eq(site.0));
    }
    if let Some(u) = &q.unit {
        sel = sel.filter(unit::Column::Unit.eq(u.as_str()));
    }
    if let Some(r) = &q.room {
        sel = sel.filter(unit::Column::Room.eq(r.as_str()));
    }
    Some(sel)
}

/// The dossier query; `unit_ids` is the result of [`units_of`], if any.
pub fn build(q: &DossierQuery, crypto: &Crypto, unit_ids: Option<&[i64]>) -> Select<dossier::Entity> {
    let mut sel = dossier::Entity::find();
    if let Some(site) = q.site_id {
        sel = sel.filter(dossier::Column::SiteId.eq(site.0));
    }
    if let Some(units) = unit_ids {
        sel = sel.filter(dossier::Column::UnitId.is_in(units.iter().copied()));
    }

    // Person filters must all match one and the same party.
    let mut customers = Query::select();
    customers.column(customer::Column::Id).from(customer::Entity);
    let mut by_person = false;
    if let Some(p) = &q.phone {
        customers.and_where(customer::Column::PhoneIdx.eq(crypto.blind_index(PHONE, p.as_str())));
        by_person = true;
    }
    if let Some(i) = &q.id_number {
        customers.and_where(customer::Column::IdNumberIdx.eq(crypto.blind_index(ID_NUMBER, i.as_str())));
        by_person = true;
    }
    if let Some(name) = &q.name {
        let grams = name_grams(name);
        if name.chars().count() >= 2 {
            for g in grams {
                customers.and_where(
                    customer::Column::Id.in_subquery(
                        Query::select()
                            .column(name_gram::Column::CustomerId)
                            .from(name_gram::Entity)
                            .and_where(name_gram::Column::Gram.eq(g))
                            .to_owned(),
                    ),
                );
            }
        }
        customers.and_where(Expr::col(customer::Column::Name).like(LikeExpr::new(like_escape(name)).escape('\\')));
        by_person = true;
    }
    if by_person {
        if let Some(site) = q.site_id {
            customers.and_where(customer::Column::SiteId.eq(site.0));
        }
        sel = sel.filter(party_of(customers.to_owned()));
    }

    if let Some(c) = q.party {
        let mut one = Query::select();
        one.column(customer::Column::Id).from(customer::Entity).and_where(customer::Column::Id.eq(c.0));
        sel = sel.filter(party_of(one.to_owned()));
    }
    if let Some(c) = q.class {
        sel = sel.filter(dossier::Column::Class.eq(c.as_str()));
    }
    if let Some(s) = q.status {
        sel = sel.filter(dossier::Column::Status.eq(s.as_str()));
    }
    if let Some(rules) = &q.incomplete {
        let mut any = Condition::any();
        for (class, reqs) in rules {
            let mut missing = Condition::any();
            for r in reqs {
                let absent = documents_of_type_exist(&r.doc_type).not();
                missing = missing.add(match r.when {
                    None => Condition::all().add(absent),
                    Some(c) => Condition::all().add(condition_holds(c)).add(absent),
                });
            }
            any = any.add(Condition::all().add(dossier::Column::Class.eq(class.as_str())).add(missing));
        }
        sel = sel.filter(any);
    }
    if let Some(after) = q.page.after {
        sel = sel.filter(dossier::Column::Id.gt(after));
    }
    sel.order_by_asc(dossier::Column::Id).limit(u64::from(q.page.size) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams() {
        assert_eq!(name_grams("王芳"), vec!["王芳"]);
        assert_eq!(name_grams("欧阳娜娜"), vec!["娜娜", "欧阳", "阳娜"]);
        assert_eq!(name_grams("李"), vec!["李"]);
        assert_eq!(name_grams("AB"), vec!["ab"]);
        assert!(name_grams(" ").is_empty());
    }

    #[test]
    fn like_is_escaped() {
        assert_eq!(like_escape("a%_\\"), "%a\\%\\_\\\\%");
    }
}
