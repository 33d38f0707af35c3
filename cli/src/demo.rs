//! The demo data set `make run` loads: two sites of the house rules' kinds (a
//! property-management centre and a heat-supply branch), owners with valid ID
//! numbers, dossiers with some of their documents, one ownership transfer and
//! one recorded contact change, so a new user sees real dossiers at once.

use dangan_proto::archive::v1 as pb;
use tonic::Code;

use crate::client::Clients;

struct Owner {
    name: &'static str,
    phone: &'static str,
    id: &'static str,
    room: (&'static str, &'static str, i32, &'static str),
}

const OWNERS: &[Owner] = &[
    Owner { name: "王芳", phone: "13812345678", id: "110105197003139302", room: ("1", "1", 3, "301") },
    Owner { name: "李娜", phone: "13911112222", id: "51010719840212840X", room: ("1", "1", 3, "302") },
    Owner { name: "张伟", phone: "13700001111", id: "110105195704219090", room: ("1", "2", 5, "501") },
    Owner { name: "刘洋", phone: "13655556666", id: "110105198610131630", room: ("1", "2", 5, "502") },
    Owner { name: "陈静", phone: "13522223333", id: "510107198503106322", room: ("2", "1", 12, "1201") },
    Owner { name: "欧阳娜娜", phone: "13633334444", id: "110105195710108127", room: ("2", "1", 12, "1202") },
    Owner { name: "赵磊", phone: "13844445555", id: "110105198710213457", room: ("2", "2", 8, "801") },
    Owner { name: "孙丽", phone: "15012345678", id: "510107198512038202", room: ("2", "2", 8, "802") },
];

/// Creates a site, or fetches it when it exists: every step of the demo is
/// idempotent, so a second run (or a run after an interrupted one) completes
/// the data set without duplicating anything.
async fn ensure_site(
    c: &mut Clients,
    org: &str,
    code: &str,
    name: &str,
    pattern: &str,
    auto: bool,
) -> anyhow::Result<pb::Site> {
    let r = c
        .sites
        .create_site(pb::CreateSiteRequest {
            org_code: org.into(),
            site_code: code.into(),
            name: name.into(),
            archive_number_pattern: pattern.into(),
            auto_create_dossiers: auto,
        })
        .await;
    match r {
        Ok(s) => Ok(s.into_inner()),
        Err(e) if e.code() == Code::AlreadyExists => {
            let r#ref = Some(pb::site_ref::Ref::Code(format!("{org}-{code}")));
            Ok(c.sites.get_site(pb::GetSiteRequest { site: Some(pb::SiteRef { r#ref }) }).await?.into_inner())
        }
        Err(e) => Err(e.into()),
    }
}

async fn customer(c: &mut Clients, key: &str, customer: pb::Customer) -> anyhow::Result<pb::Customer> {
    let req = pb::CreateCustomerRequest { customer: Some(customer), request_id: format!("demo-customer-{key}") };
    Ok(c.customers.create_customer(req).await?.into_inner())
}

pub async fn load(c: &mut Clients, json: bool) -> anyhow::Result<()> {
    let site = ensure_site(c, "CPM", "AVIC", "俊景豪园管理中心", "", true).await?;
    let heat = ensure_site(c, "RL", "HX", "热力公司河西分公司", "{org}-{site}-{class}-{seq:04}", false).await?;

    let mut dossiers = Vec::new();
    let mut customers = Vec::new();
    for (i, o) in OWNERS.iter().enumerate() {
        let cust = customer(
            c,
            o.id,
            pb::Customer {
                site_id: site.id,
                kind: pb::CustomerKind::Person as i32,
                name: o.name.into(),
                phone: o.phone.into(),
                id_number: o.id.into(),
                residency: pb::Residency::Resident as i32,
                ownership: pb::Ownership::Owned as i32,
                ..Default::default()
            },
        )
        .await?;
        let (building, unit, floor, room) = o.room;
        let d = c
            .dossiers
            .create_dossier(pb::CreateDossierRequest {
                site_id: site.id,
                unit: Some(pb::create_dossier_request::Unit::UnitAddress(pb::UnitAddress {
                    building: building.into(),
                    unit: unit.into(),
                    floor,
                    room: room.into(),
                })),
                dossier_class: pb::DossierClass::AOwner as i32,
                parties: vec![pb::PartyInput { customer_id: cust.id, role: pb::PartyRole::Owner as i32 }],
                location: Some(pb::Location {
                    cabinet: "1".into(),
                    r#box: format!("{}", i / 4 + 1),
                    position: format!("{}", i % 4 + 1),
                }),
                request_id: format!("demo-{}", o.id),
                ..Default::default()
            })
            .await?
            .into_inner();
        // Half of the dossiers hold the whole checklist, the others a part.
        let docs: &[&str] = if i % 2 == 0 {
            &[
                "入伙通知书",
                "购房合同",
                "业主登记表",
                "身份证复印件",
                "委托物业管理服务协议",
                "用户公约",
                "装修管理责任书",
                "房屋交付验收表",
            ]
        } else {
            &["购房合同", "身份证复印件", "收楼单"]
        };
        for (j, t) in docs.iter().enumerate() {
            let fields =
                if *t == "身份证复印件" { vec![field("name", o.name), field("id_number", o.id)] } else { vec![] };
            c.documents
                .register_document(pb::RegisterDocumentRequest {
                    dossier_id: d.id,
                    document_type: (*t).into(),
                    title: format!("{}{}", o.name, t),
                    page_count: if *t == "购房合同" { 12 } else { 1 },
                    status: pb::DocumentStatus::Filed as i32,
                    fields,
                    received_on: String::new(),
                    request_id: format!("demo-{}-doc{j}", o.id),
                })
                .await?;
        }
        customers.push(cust);
        dossiers.push(d);
    }

    // 王芳 changed her phone; 张伟 sold his flat to a new owner. Both only once.
    let d0 = &dossiers[0];
    if d0.version == 1 {
        c.dossiers
            .record_change(pb::RecordChangeRequest {
                dossier_id: d0.id,
                expected_version: d0.version,
                reason: "业主来电更换手机号".into(),
                change: Some(pb::record_change_request::Change::Contact(pb::ContactChange {
                    customer_id: customers[0].id,
                    phone: Some("13899998888".into()),
                    ..Default::default()
                })),
            })
            .await?;
    }
    let buyer = customer(
        c,
        "buyer",
        pb::Customer {
            site_id: site.id,
            kind: pb::CustomerKind::Person as i32,
            name: "周杰".into(),
            phone: "18612340000".into(),
            id_number: "310104197910155649".into(),
            ..Default::default()
        },
    )
    .await?;
    let d2 = &dossiers[2];
    if d2.status == pb::DossierStatus::Active as i32 {
        c.dossiers
            .transfer_ownership(pb::TransferOwnershipRequest {
                dossier_id: d2.id,
                expected_version: d2.version,
                new_owner_ids: vec![buyer.id],
                reason: "二手房过户".into(),
                effective_date: String::new(),
                location: None,
            })
            .await?;
    }

    // A heat customer with its basic dossier.
    let hc = customer(
        c,
        "heat-1",
        pb::Customer {
            site_id: heat.id,
            kind: pb::CustomerKind::Company as i32,
            name: "河西区第一中学".into(),
            business_licence_no: "12120103401360000X".into(),
            phone: "022-28123456".into(),
            residency: pb::Residency::NonResident as i32,
            ..Default::default()
        },
    )
    .await?;
    c.dossiers
        .create_dossier(pb::CreateDossierRequest {
            site_id: heat.id,
            unit: Some(pb::create_dossier_request::Unit::UnitAddress(pb::UnitAddress {
                building: "教学楼".into(),
                unit: String::new(),
                floor: 1,
                room: "101".into(),
            })),
            dossier_class: pb::DossierClass::HeatBasic as i32,
            parties: vec![pb::PartyInput { customer_id: hc.id, role: pb::PartyRole::Owner as i32 }],
            request_id: "demo-heat-1".into(),
            ..Default::default()
        })
        .await?;

    if !json {
        println!(
            "demo data loaded: sites CPM-AVIC and RL-HX, {} owner dossiers, one transfer, one heat dossier",
            OWNERS.len()
        );
    }
    Ok(())
}

fn field(key: &str, value: &str) -> pb::ExtractedField {
    pb::ExtractedField {
        key: key.into(),
        value: value.into(),
        confidence: 1.0,
        validation: pb::Validation::Valid as i32,
        validation_message: String::new(),
    }
}
