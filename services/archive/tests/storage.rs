//! The storage suite: every test runs on SQLite and on PostgreSQL (see
//! `common`).

use std::collections::HashSet;

use chrono::{Datelike, Local};
use dangan_archive::domain::ArchiveError;
use dangan_archive::domain::checklist::Checklists;
use dangan_archive::domain::id_number::IdNumber;
use dangan_archive::domain::model::*;
use dangan_archive::domain::phone::Phone;
use dangan_archive::domain::service::Archive;
use dangan_archive::domain::store::{DossierKey, DossierQuery, PageRequest, SiteKey};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

const ID_1: &str = "11010519491231002X";
const ID_2: &str = "440106198202020555";
const PHONE_1: &str = "13812345678";
const PHONE_2: &str = "13987654321";

mod common;
use common::Backend;

suite!(
    sites_and_units,
    dossier_creation_numbers_labels_and_history,
    concurrent_creation_is_unique_and_gap_free,
    idempotent_creation_by_request_id,
    search_filters_and_paging,
    update_with_version_and_field_changes,
    record_changes_are_atomic_and_audited,
    transfer_supersedes_and_links,
    documents_and_completeness,
    private_values_are_not_stored_in_plain_text,
    bulk_import_continues_numbers_and_stays_searchable,
);

async fn site(a: &Archive, code: &str) -> Site {
    a.create_site(NewSite {
        org_code: "CPM".into(),
        site_code: code.into(),
        name: "俊景豪园管理中心".into(),
        number_pattern: "{org}-{site}-{seq:03}".into(),
        auto_create_dossiers: false,
    })
    .await
    .unwrap()
}

fn person(site: SiteId, name: &str, phone: Option<&str>, id: Option<&str>) -> CustomerData {
    CustomerData {
        site_id: site,
        kind: CustomerKind::Person,
        name: name.into(),
        gender: Gender::Unspecified,
        phone: phone.map(|p| Phone::parse(p).unwrap()),
        id_number: id.map(|i| IdNumber::parse(i).unwrap()),
        licence_no: None,
        residency: Residency::Resident,
        ownership: Ownership::Owned,
        employer: String::new(),
        emergency_contact: None,
        family: vec![],
        address: String::new(),
        birth_date: None,
    }
}

fn addr(building: &str, unit: &str, floor: i32, room: &str) -> UnitAddress {
    UnitAddress { building: building.into(), unit: unit.into(), floor, room: room.into() }
}

fn new_dossier(site: SiteId, a: UnitAddress, owner: CustomerId) -> NewDossier {
    NewDossier {
        site_id: site,
        unit: UnitRef::Address(a),
        class: DossierClass::A,
        parties: vec![(owner, PartyRole::Owner)],
        security: DossierClass::A.default_security(),
        retention: DossierClass::A.default_retention(),
        location: Location { cabinet: "1".into(), box_no: "3".into(), position: "12".into() },
        notes: String::new(),
        request_id: None,
    }
}

async fn sites_and_units(b: &Backend) {
    let a = &b.archive;
    let s = site(a, "AVIC").await;
    assert!(matches!(
        a.create_site(NewSite { number_pattern: "{org}".into(), ..new_site("X") }).await,
        Err(ArchiveError::InvalidArgument(_))
    ));
    assert!(matches!(a.create_site(new_site("AVIC")).await, Err(ArchiveError::AlreadyExists(_))));
    assert_eq!(a.get_site(&SiteKey::Code { org: None, site: "AVIC".into() }).await.unwrap().id, s.id);
    assert_eq!(a.get_site(&SiteKey::Code { org: Some("CPM".into()), site: "AVIC".into() }).await.unwrap().id, s.id);
    assert!(matches!(a.get_site(&SiteKey::Id(SiteId(9999))).await, Err(ArchiveError::NotFound { .. })));

    let u = a.create_unit(s.id, addr("3", "2", 12, "1201")).await.unwrap();
    assert!(matches!(a.create_unit(s.id, addr("3", "2", 12, "1201")).await, Err(ArchiveError::AlreadyExists(_))));
    assert!(matches!(
        a.create_unit(SiteId(9999), addr("3", "2", 12, "1201")).await,
        Err(ArchiveError::NotFound { .. })
    ));
    for r in 1..=5 {
        a.create_unit(s.id, addr("4", "1", 1, &format!("10{r}"))).await.unwrap();
    }
    let p1 = a.list_units(s.id, Some("4"), PageRequest { size: 3, after: None }).await.unwrap();
    assert_eq!(p1.items.len(), 3);
    let p2 = a.list_units(s.id, Some("4"), PageRequest { size: 3, after: p1.next_after }).await.unwrap();
    assert_eq!(p2.items.len(), 2);
    assert!(p2.next_after.is_none());
    assert_eq!(a.get_unit(u.id).await.unwrap().address.label(), "3-2-12-1201");
}

fn new_site(code: &str) -> NewSite {
    NewSite {
        org_code: "CPM".into(),
        site_code: code.into(),
        name: "n".into(),
        number_pattern: "{org}-{site}-{seq:03}".into(),
        auto_create_dossiers: false,
    }
}

async fn dossier_creation_numbers_labels_and_history(b: &Backend) {
    let a = &b.archive;
    let s = site(a, "AVIC").await;
    let owner = a.create_customer(person(s.id, "王芳", Some(PHONE_1), Some(ID_1)), None).await.unwrap();
    // Birth date and gender come from the ID number.
    assert_eq!(owner.data.birth_date.unwrap().year(), 1949);
    assert_eq!(owner.data.gender, Gender::Female);
    let d = a.create_dossier(new_dossier(s.id, addr("3", "2", 12, "1201"), owner.id), "tester").await.unwrap();
    assert_eq!(d.archive_number, "CPM-AVIC-001");
    assert_eq!(d.label(), "3-2-12-1201 王芳");
    assert_eq!(d.security, SecurityLevel::TopSecret);
    assert_eq!(d.retention, Retention::Permanent);
    assert_eq!(d.version, 1);
    assert_eq!(d.parties[0].customer.data.phone.as_ref().unwrap().as_str(), PHONE_1);
    let d2 = a.create_dossier(new_dossier(s.id, addr("3", "2", 12, "1202"), owner.id), "tester").await.unwrap();
    assert_eq!(d2.archive_number, "CPM-AVIC-002");
    assert_eq!(a.get_dossier(&DossierKey::Number("CPM-AVIC-002".into())).await.unwrap().id, d2.id);
    let h = a.list_history(d.id, PageRequest::default()).await.unwrap();
    assert_eq!(h.items.len(), 1);
    assert_eq!(h.items[0].kind, HistoryKind::Created);
    assert_eq!(h.items[0].actor, "tester");

    // Owner classes need an owner; customers must exist on the site.
    let mut no_owner = new_dossier(s.id, addr("3", "2", 12, "1203"), owner.id);
    no_owner.parties[0].1 = PartyRole::Tenant;
    assert!(
        matches!(a.create_dossier(no_owner, "t").await, Err(ArchiveError::InvalidArgument(v)) if v[0].field == "parties")
    );
    let other = site(a, "OTHER").await;
    let stranger = a.create_customer(person(other.id, "李四", None, None), None).await.unwrap();
    let err = a.create_dossier(new_dossier(s.id, addr("3", "2", 12, "1203"), stranger.id), "t").await.unwrap_err();
    assert!(matches!(&err, ArchiveError::InvalidArgument(v) if v[0].field == "parties[0]"), "{err}");
    assert!(matches!(
        a.create_dossier(new_dossier(s.id, addr("3", "2", 12, "1203"), CustomerId(999_999)), "t").await,
        Err(ArchiveError::InvalidArgument(_))
    ));
    // Nothing of the refused creations was written: the next number is 003.
    let d3 = a.create_dossier(new_dossier(s.id, addr("3", "2", 12, "1203"), owner.id), "t").await.unwrap();
    assert_eq!(d3.archive_number, "CPM-AVIC-003");
    // Birth date contradicting the ID number is refused.
    let mut bad = person(s.id, "赵六", None, Some(ID_1));
    bad.birth_date = Some(chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap());
    assert!(
        matches!(a.create_customer(bad, None).await, Err(ArchiveError::InvalidArgument(v)) if v[0].field == "customer.birth_date")
    );
}

async fn concurrent_creation_is_unique_and_gap_free(b: &Backend) {
    let a = &b.archive;
    let s = site(a, "AVIC").await;
    let owner = a.create_customer(person(s.id, "王芳", None, None), None).await.unwrap();
    let mut tasks = Vec::new();
    // 125 concurrent creations, of which 100 succeed.
    for i in 0..125 {
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            // Every fifth request names a missing customer and must fail
            // without consuming a number.
            let who = if i % 5 == 4 { CustomerId(987_654) } else { owner.id };
            a.create_dossier(new_dossier(s.id, addr(&format!("{}", i % 7 + 1), "1", 1, &format!("{i}")), who), "t")
                .await
        }));
    }
    let mut numbers = Vec::new();
    let mut failures = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(d) => numbers.push(d.archive_number),
            Err(ArchiveError::InvalidArgument(_)) => failures += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(failures, 25);
    assert_eq!(numbers.len(), 100);
    let unique: HashSet<_> = numbers.iter().collect();
    assert_eq!(unique.len(), 100, "duplicate archive numbers");
    let mut seqs: Vec<u32> = numbers.iter().map(|n| n.rsplit('-').next().unwrap().parse().unwrap()).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=100).collect::<Vec<_>>(), "numbers are not gap-free");
}

async fn idempotent_creation_by_request_id(b: &Backend) {
    let a = &b.archive;
    let s = site(a, "AVIC").await;
    let owner = a.create_customer(person(s.id, "王芳", None, None), None).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let a = a.clone();
        let mut n = new_dossier(s.id, addr("1", "1", 1, "101"), owner.id);
        n.request_id = Some("scan-station-7/batch-3/1".into());
        tasks.push(tokio::spawn(async move { a.create_dossier(n, "t").await.unwrap() }));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().id);
    }
    assert_eq!(ids.len(), 1, "a retried request created a second dossier");
    let next = a.create_dossier(new_dossier(s.id, addr("1", "1", 1, "102"), owner.id), "t").await.unwrap();
    assert_eq!(next.archive_number, "CPM-AVIC-002");
}

async fn search_filters_and_paging(b: &Backend) {
    let a = &b.archive;
    let s = site(a, "AVIC").await;
    let other = site(a, "OTHER").await;
    let wang = a.create_customer(person(s.id, "王芳", Some(PHONE_1), Some(ID_1)), None).await.unwrap();
    let ouyang = a.create_customer(person(s.id, "欧阳娜娜", Some(PHONE_2), Some(ID_2)), None).await.unwrap();
    let wang_other = a.create_customer(person(other.id, "王芳", Some(PHONE_1), None), None).await.unwrap();
    let d1 = a.create_dossier(new_dossier(s.id, addr("3", "2", 12, "1201"), wang.id), "t").await.unwrap();
    let d2 = a.create_dossier(new_dossier(s.id, addr("3", "2", 12, "1202"), ouyang.id), "t").await.unwrap();
    let d3 = a.create_dossier(new_dossier(other.id, addr("3", "2", 12, "1201"), wang_other.id), "t").await.unwrap();
    let mut heat = new_dossier(s.id, addr("5", "", 1, "101"), ouyang.id);
    heat.class = DossierClass::HeatUsage;
    heat.parties[0].1 = PartyRole::Tenant;
    let d4 = a.create_dossier(heat, "t").await.unwrap();

    let ids = |p: dangan_archive::domain::store::Page<Dossier>| p.items.into_iter().map(|d| d.id).collect::<Vec<_>>();
    let q = |f: fn(&mut DossierQuery)| {
        let mut q = DossierQuery::default();
        f(&mut q);
        q
    };
    let by_room = DossierQuery {
        site_id: Some(s.id),
        building: Some("3".into()),
        unit: Some("2".into()),
        room: Some("1201".into()),
        ..Default::default()
    };
    assert_eq!(ids(a.search_dossiers(by_room, false).await.unwrap()), vec![d1.id]);
    assert_eq!(ids(a.search_dossiers(q(|q| q.name = Some("王芳".into())), false).await.unwrap()), vec![d1.id, d3.id]);
    let in_site = DossierQuery { site_id: Some(s.id), name: Some("王芳".into()), ..Default::default() };
    assert_eq!(ids(a.search_dossiers(in_site, false).await.unwrap()), vec![d1.id]);
    assert_eq!(ids(a.search_dossiers(q(|q| q.name = Some("阳娜娜".into())), false).await.unwrap()), vec![d2.id, d4.id]);
    assert_eq!(ids(a.search_dossiers(q(|q| q.name = Some("芳".into())), false).await.unwrap()), vec![d1.id, d3.id]);
    assert!(ids(a.search_dossiers(q(|q| q.name = Some("王娜".into())), false).await.unwrap()).is_empty());
    assert!(ids(a.search_dossiers(q(|q| q.name = Some("%".into())), false).await.unwrap()).is_empty());
    assert_eq!(
        ids(a.search_dossiers(q(|q| q.phone = Some(Phone::parse(PHONE_1).unwrap())), false).await.unwrap()),
        vec![d1.id, d3.id]
    );
    assert_eq!(
        ids(a.search_dossiers(q(|q| q.id_number = Some(IdNumber::parse(ID_2).unwrap())), false).await.unwrap()),
        vec![d2.id, d4.id]
    );
    // Person filters must match the same party.
    let mixed = DossierQuery {
        name: Some("王芳".into()),
        id_number: Some(IdNumber::parse(ID_2).unwrap()),
        ..Default::default()
    };
    assert!(ids(a.search_dossiers(mixed, false).await.unwrap()).is_empty());
    assert_eq!(
        ids(a.search_dossiers(q(|q| q.class = Some(DossierClass::HeatUsage)), false).await.unwrap()),
        vec![d4.id]
    );
    assert_eq!(
        ids(a.search_dossiers(q(|q| q.status = Some(DossierStatus::Superseded)), false).await.unwrap()),
        Vec::<DossierId>::new()
    );

    // Incomplete-only: complete d1 by registering every required document.
    for t in Checklists::default_lists().requirements(DossierClass::A).iter().filter(|r| r.when.is_none()) {
        a.register_document(doc(d1.id, &t.doc_type), "t").await.unwrap();
    }
    let incomplete = DossierQuery { site_id: Some(s.id), ..Default::default() };
    assert_eq!(ids(a.search_dossiers(incomplete.clone(), true).await.unwrap()), vec![d2.id, d4.id]);
    assert_eq!(ids(a.search_dossiers(incomplete, false).await.unwrap()), vec![d1.id, d2.id, d4.id]);

    // Paging walks every result once.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = a
            .search_dossiers(
                DossierQuery { site_id: Some(s.id), page: PageRequest { size: 1, after }, ..Default::default() },
                false,
            )
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|d| d.id));
        match page.next_after {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, vec![d1.id, d2.id, d4.id]);

    // Refused queries name the field.
    assert!(matches!(a.search_dossiers(DossierQuery::default(), false).await, Err(ArchiveError::InvalidArgument(_))));
    let room_without_building = DossierQuery { site_id: Some(s.id), room: Some("1201".into()), ..Default::default() };
    assert!(
        matches!(a.search_dossiers(room_without_building, false).await, Err(ArchiveError::InvalidArgument(v)) if v[0].field == "building")
    );
}

fn doc(dossier: DossierId, t: &str) -> NewDocument {
    NewDocument {
        dossier_id: dossier,
        doc_type: t.into(),
        title: t.into(),
        page_count: 1,
        status: DocumentStatus::Filed,
        fields: vec![],
        received_on: Local::now().date_naive(),
        request_id: None,
    }
}

async fn update_with_version_and_field_changes(b: &Backend) {
    let a = &b.archive;
    let s = site(a, "AVIC").await;
    let owner = a.create_customer(person(s.id, "王芳", None, None), None).await.unwrap();
    let d = a.create_dossier(new_dossier(s.id, addr("3", "2", 12, "1201"), owner.id), "t").await.unwrap();
    let patch =
        DossierPatch { box_no: Some("7".into()), security: Some(SecurityLevel::Confidential), ..Default::default() };
    let u = a.update_dossier(d.id, 1, patch.clone(), "moved to box 7", "archivist").await.unwrap();
    assert_eq!(
        (u.version, u.location.box_no.as_str(), u.location.cabinet.as_str(), u.security),
        (2, "7", "1", SecurityLevel::Confidential)
    );
    // A stale version is refused and changes nothing.
    let stale =
        a.update_dossier(d.id, 1, DossierPatch { notes: Some("x".into()), ..Default::default() }, "", "t").await;
    assert!(matches!(stale, Err(ArchiveError::VersionConflict { expected: 1, current: 2 })));
    let now = a.get_dossier(&DossierKey::Id(d.id)).await.unwrap();
    assert_eq!((now.version, now.notes.as_str()), (2, ""));
    assert!(matches!(
        a.update_dossier(d.id, 2, DossierPatch::default(), "", "t").await,
        Err(ArchiveError::InvalidArgument(_))
    ));
    assert!(matches!(a.update_dossier(DossierId(999), 1, patch, "", "t").await, Err(ArchiveError::NotFound { .. })));
    let h = a.list_history(d.id, PageRequest::default()).await.unwrap().items;
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].kind, HistoryKind::Updated);
    assert_eq!(h[1].reason, "moved to box 7");
    assert_eq!(h[1].details["location.box"]["before"], "3");
    assert_eq!(h[1].details["location.box"]["after"], "7");

    // Concurrent updates at the same version: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            a.update_dossier(d.id, 2, DossierPatch { notes: Some(format!("n{i}")), ..Default::default() }, "", "t")
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ArchiveError::VersionConflict { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(a.get_dossier(&DossierKey::Id(d.id)).await.unwrap().version, 3);
}

async fn record_changes_are_atomic_and_audited(b: &Backend) {
    let a = &b.archive;
    let s = site(a, "AVIC").await;
    let other = site(a, "OTHER").await;
    let owner = a.create_customer(person(s.id, "王芳", Some(PHONE_1), None), None).await.unwrap();
    let tenant = a.create_customer(person(s.id, "李四", None, None), None).await.unwrap();
    let stranger = a.create_customer(person(other.id, "赵六", None, None), None).await.unwrap();
    let d = a.create_dossier(new_dossier(s.id, addr("3", "2", 12, "1201"), owner.id), "t").await.unwrap();

    let contact = Change::Contact(ContactChange {
        customer_id: owner.id,
        phone: Some(Phone::parse(PHONE_2).unwrap()),
        emergency_contact: None,
        employer: Some("市第一医院".into()),
        address: None,
    });
    let d = a.record_change(d.id, 1, contact, "业主来电更换手机号", "archivist").await.unwrap();
    assert_eq!(d.version, 2);
    assert_eq!(d.parties[0].customer.data.phone.as_ref().unwrap().as_str(), PHONE_2);
    let by_old = DossierQuery { phone: Some(Phone::parse(PHONE_1).unwrap()), ..Default::default() };
    assert!(a.search_dossiers(by_old, false).await.unwrap().items.is_empty());
    let by_new = DossierQuery { phone: Some(Phone::parse(PHONE_2).unwrap()), ..Default::default() };
    assert_eq!(a.search_dossiers(by_new, false).await.unwrap().items.len(), 1);

    // Occupant change naming a customer of another site: refused as a whole,
    // the valid half (the tenant) is not written either.
    let bad = Change::Occupant {
        moved_in: vec![(tenant.id, PartyRole::Tenant), (stranger.id, PartyRole::Occupant)],
        moved_out: vec![],
    };
    assert!(matches!(a.record_change(d.id, 2, bad, "入住", "t").await, Err(ArchiveError::InvalidArgument(_))));
    let now = a.get_dossier(&DossierKey::Id(d.id)).await.unwrap();
    assert_eq!((now.version, now.parties.len()), (2, 1));
    let good = Change::Occupant { moved_in: vec![(tenant.id, PartyRole::Tenant)], moved_out: vec![] };
    let d = a.record_change(d.id, 2, good, "租户入住", "t").await.unwrap();
    assert_eq!(d.parties.len(), 2);
    let out_owner = Change::Occupant { moved_in: vec![], moved_out: vec![owner.id] };
    assert!(matches!(a.record_change(d.id, 3, out_owner, "x", "t").await, Err(ArchiveError::InvalidArgument(_))));
    let family = Change::Family {
        customer_id: owner.id,
        members: vec![FamilyMember {
            name: "王小明".into(),
            relation: "子女".into(),
            phone: Some(Phone::parse(PHONE_1).unwrap()),
        }],
    };
    let d = a.record_change(d.id, 3, family, "新生儿登记", "t").await.unwrap();
    assert_eq!(d.parties[0].customer.data.family.len(), 1);
    assert!(matches!(
        a.record_change(d.id, 4, Change::Occupant { moved_in: vec![], moved_out: vec![tenant.id] }, " ", "t").await,
        Err(ArchiveError::InvalidArgument(v)) if v[0].field == "reason"
    ));

    let h = a.list_history(d.id, PageRequest::default()).await.unwrap().items;
    let kinds: Vec<_> = h.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            HistoryKind::Created,
            HistoryKind::ContactChanged,
            HistoryKind::OccupantChanged,
            HistoryKind::FamilyChanged
        ]
    );
    assert_eq!(h[1].reason, "业主来电更换手机号");
    assert_eq!(h[1].details["phone"]["before"], "138****5678");
    assert_eq!(h[1].details["phone"]["after"], "139****4321");
    let all = serde_json::to_string(&h.iter().map(|e| &e.details).collect::<Vec<_>>()).unwrap();
    assert!(!all.contains(PHONE_1) && !all.contains(PHONE_2), "history holds a plain phone number");
}

fn transfer(owners: Vec<CustomerId>, reason: &str, date: Option<chrono::NaiveDate>) -> TransferRequest {
    TransferRequest { new_owner_ids: owners, reason: reason.into(), effective_date: date, location: None }
}

async fn transfer_supersedes_and_links(b: &Backend) {
    let a = &b.archive;
    let s = site(a, "AVIC").await;
    let seller = a.create_customer(person(s.id, "王芳", None, None), None).await.unwrap();
    let buyer = a.create_customer(person(s.id, "欧阳娜娜", None, None), None).await.unwrap();
    let d = a.create_dossier(new_dossier(s.id, addr("3", "2", 12, "1201"), seller.id), "t").await.unwrap();
    let eff = chrono::NaiveDate::from_ymd_opt(2024, 5, 20).unwrap();
    assert!(matches!(
        a.transfer(d.id, 1, transfer(vec![seller.id], "二手房过户", Some(eff)), "t").await,
        Err(ArchiveError::InvalidArgument(_))
    ));
    assert!(matches!(
        a.transfer(d.id, 7, transfer(vec![buyer.id], "二手房过户", Some(eff)), "t").await,
        Err(ArchiveError::VersionConflict { .. })
    ));
    let (prev, cur) =
        a.transfer(d.id, 1, transfer(vec![buyer.id], "二手房过户", Some(eff)), "archivist").await.unwrap();
    assert_eq!(prev.status, DossierStatus::Superseded);
    assert_eq!(prev.retention, Retention::Until(chrono::NaiveDate::from_ymd_opt(2027, 5, 20).unwrap()));
    assert_eq!(prev.successor_id, Some(cur.id));
    assert_eq!(cur.predecessor_id, Some(prev.id));
    assert_eq!(cur.archive_number, "CPM-AVIC-002");
    assert_eq!(cur.unit.id, prev.unit.id);
    assert_eq!(cur.label(), "3-2-12-1201 欧阳娜娜");
    assert_eq!(cur.status, DossierStatus::Active);
    assert_eq!(cur.location, prev.location);
    // A superseded dossier no longer changes.
    assert!(matches!(
        a.transfer(d.id, 2, transfer(vec![buyer.id], "again", Some(eff)), "t").await,
        Err(ArchiveError::FailedPrecondition(_))
    ));
    let h_prev = a.list_history(prev.id, PageRequest::default()).await.unwrap().items;
    let h_cur = a.list_history(cur.id, PageRequest::default()).await.unwrap().items;
    assert_eq!(h_prev.last().unwrap().kind, HistoryKind::TransferredOut);
    assert_eq!(h_cur.last().unwrap().kind, HistoryKind::TransferredIn);
    assert_eq!(h_cur.last().unwrap().reason, "二手房过户");
    let superseded =
        DossierQuery { site_id: Some(s.id), status: Some(DossierStatus::Superseded), ..Default::default() };
    assert_eq!(a.search_dossiers(superseded, false).await.unwrap().items.len(), 1);
}

async fn documents_and_completeness(b: &Backend) {
    let a = &b.archive;
    let s = site(a, "AVIC").await;
    let mut company = person(s.id, "深圳市某某科技有限公司", None, None);
    company.kind = CustomerKind::Company;
    company.licence_no = Some("91440300MA5F000000".into());
    let c = a.create_customer(company, None).await.unwrap();
    let d = a.create_dossier(new_dossier(s.id, addr("3", "2", 12, "1201"), c.id), "t").await.unwrap();
    let before = a.completeness(d.id).await.unwrap();
    assert!(!before.is_complete());
    // Eight base items plus the business licence for a company owner.
    assert_eq!(before.items.len(), 9);
    assert!(before.items.iter().any(|i| i.doc_type == "business_licence_copy" && i.because.is_some()));

    // Names and aliases resolve to the type key.
    let mut by_alias = doc(d.id, "收楼单");
    by_alias.fields = vec![ExtractedField {
        key: "owner_id_number".into(),
        value: ID_1.into(),
        confidence: 0.97,
        validation: "valid".into(),
        message: String::new(),
    }];
    by_alias.request_id = Some("doc-1".into());
    let reg = a.register_document(by_alias.clone(), "t").await.unwrap();
    assert_eq!(reg.doc_type, "handover_acceptance");
    assert_eq!(reg.fields[0].value, ID_1);
    assert_eq!(a.register_document(by_alias, "t").await.unwrap().id, reg.id, "retry registered twice");
    assert!(
        matches!(a.register_document(doc(d.id, "菜单"), "t").await, Err(ArchiveError::InvalidArgument(v)) if v[0].field == "document_type")
    );
    assert!(matches!(
        a.register_document(doc(DossierId(999), "收楼单"), "t").await,
        Err(ArchiveError::NotFound { .. })
    ));
    let mut future = doc(d.id, "收楼单");
    future.received_on = Local::now().date_naive() + chrono::Days::new(2);
    assert!(
        matches!(a.register_document(future, "t").await, Err(ArchiveError::InvalidArgument(v)) if v[0].field == "received_on")
    );
    let mut zero = doc(d.id, "收楼单");
    zero.page_count = 0;
    assert!(
        matches!(a.register_document(zero, "t").await, Err(ArchiveError::InvalidArgument(v)) if v[0].field == "page_count")
    );

    for r in Checklists::default_lists().requirements(DossierClass::A) {
        if r.doc_type != "handover_acceptance" {
            a.register_document(doc(d.id, &r.doc_type), "t").await.unwrap();
        }
    }
    let after = a.completeness(d.id).await.unwrap();
    // The agent ID copy is required only when an agent acted: not here.
    assert!(after.is_complete(), "missing: {:?}", after.missing().collect::<Vec<_>>());
    let docs = a.list_documents(d.id, PageRequest { size: 100, after: None }).await.unwrap();
    // The base list, both conditional items (registered by the loop) and the alias one.
    assert_eq!(docs.items.len(), 10);
    assert_eq!(a.get_document(reg.id).await.unwrap().title, "收楼单");
    let h = a.list_history(d.id, PageRequest { size: 100, after: None }).await.unwrap().items;
    assert_eq!(h.iter().filter(|e| e.kind == HistoryKind::DocumentRegistered).count(), 10);
}

async fn private_values_are_not_stored_in_plain_text(b: &Backend) {
    let a = &b.archive;
    let s = site(a, "AVIC").await;
    let mut c = person(s.id, "王芳", Some(PHONE_1), Some(ID_1));
    c.emergency_contact = Some(EmergencyContact {
        name: "王强".into(),
        relation: "配偶".into(),
        phone: Some(Phone::parse(PHONE_2).unwrap()),
    });
    let c = a.create_customer(c, None).await.unwrap();
    let d = a.create_dossier(new_dossier(s.id, addr("3", "2", 12, "1201"), c.id), "t").await.unwrap();
    let mut n = doc(d.id, "身份证复印件");
    n.fields = vec![ExtractedField {
        key: "id_number".into(),
        value: ID_1.into(),
        confidence: 1.0,
        validation: "valid".into(),
        message: String::new(),
    }];
    a.register_document(n, "t").await.unwrap();
    let contact = ContactChange {
        customer_id: c.id,
        phone: Some(Phone::parse(PHONE_2).unwrap()),
        emergency_contact: None,
        employer: None,
        address: None,
    };
    a.record_change(d.id, 1, Change::Contact(contact), "换号", "t").await.unwrap();

    let needles = [ID_1, PHONE_1, PHONE_2, "19491231", "12345678"];
    let db = b.store.connection();
    let backend = db.get_database_backend();
    for table in [
        "customers",
        "customer_name_grams",
        "dossiers",
        "dossier_parties",
        "documents",
        "dossier_history",
        "units",
        "sites",
    ] {
        let sql = match backend {
            DbBackend::Postgres => format!("SELECT row_to_json(t)::text AS row FROM {table} t"),
            _ => format!("SELECT * FROM {table}"),
        };
        let rows = db.query_all_raw(Statement::from_string(backend, sql)).await.unwrap();
        assert!(!rows.is_empty() || table == "sites", "{table} is empty");
        for row in rows {
            let text = format!("{row:?}");
            for n in needles {
                assert!(!text.contains(n), "{table} holds {n} in plain text: {text}");
            }
        }
    }
    // The SQLite file itself (and its write-ahead log) never holds them either.
    if let Some(file) = &b.file {
        for path in [file.clone(), file.with_extension("db-wal")] {
            if let Ok(bytes) = std::fs::read(&path) {
                for n in needles {
                    assert!(!bytes.windows(n.len()).any(|w| w == n.as_bytes()), "{} holds {n}", path.display());
                }
            }
        }
    }
}

async fn bulk_import_continues_numbers_and_stays_searchable(b: &Backend) {
    use dangan_archive::store::bulk::ImportRecord;
    let a = &b.archive;
    let s = site(a, "AVIC").await;
    let first = a.create_customer(person(s.id, "王芳", None, None), None).await.unwrap();
    a.create_dossier(new_dossier(s.id, addr("1", "1", 1, "101"), first.id), "t").await.unwrap();
    // 2,500 records over three statements' worth of rows; 1-1-1-101 exists already.
    let records: Vec<ImportRecord> = (0..2500)
        .map(|i| ImportRecord {
            unit: addr(&format!("{}", i % 10 + 1), "1", 1, &format!("{}", 101 + i / 10)),
            class: DossierClass::A,
            location: Location::default(),
            owner: person(s.id, &format!("欧阳{i}"), Some(&format!("139{i:08}")), None),
        })
        .collect();
    let numbers = b.store.import_dossiers(s.id, &records, "importer").await.unwrap();
    assert_eq!(numbers.first().unwrap(), "CPM-AVIC-002");
    assert_eq!(numbers.last().unwrap(), "CPM-AVIC-2501");
    // Ordinary creation afterwards: ids and numbers continue without collision.
    let c = a.create_customer(person(s.id, "李四", None, None), None).await.unwrap();
    let d = a.create_dossier(new_dossier(s.id, addr("99", "1", 1, "101"), c.id), "t").await.unwrap();
    assert_eq!(d.archive_number, "CPM-AVIC-2502");
    let by_name = DossierQuery { name: Some("欧阳1234".into()), ..Default::default() };
    let found = a.search_dossiers(by_name, false).await.unwrap().items;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].unit.address.label(), "5-1-1-224");
    let by_phone = DossierQuery { phone: Some(Phone::parse("13900001234").unwrap()), ..Default::default() };
    assert_eq!(a.search_dossiers(by_phone, false).await.unwrap().items[0].id, found[0].id);
    let by_room = DossierQuery {
        site_id: Some(s.id),
        building: Some("1".into()),
        unit: Some("1".into()),
        room: Some("101".into()),
        ..Default::default()
    };
    assert_eq!(a.search_dossiers(by_room, false).await.unwrap().items.len(), 2, "the existing unit was not reused");
    let h = a.list_history(found[0].id, PageRequest::default()).await.unwrap().items;
    assert_eq!((h.len(), h[0].actor.as_str()), (1, "importer"));
    // A record of another site is refused and nothing is written.
    let other = site(a, "OTHER").await;
    let mut bad = records[..2].to_vec();
    bad[1].owner.site_id = other.id;
    assert!(matches!(b.store.import_dossiers(s.id, &bad, "i").await, Err(ArchiveError::InvalidArgument(_))));
    let c2 = a.create_customer(person(s.id, "赵六", None, None), None).await.unwrap();
    let d2 = a.create_dossier(new_dossier(s.id, addr("99", "1", 1, "102"), c2.id), "t").await.unwrap();
    assert_eq!(d2.archive_number, "CPM-AVIC-2503");
}
