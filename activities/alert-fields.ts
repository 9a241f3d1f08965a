import type {
  CreateDpsAlertRequest,
  CreateNomisAlertRequest,
  DpsAlert,
  NomisAlert,
  UpdateDpsAlertRequest,
  UpdateNomisAlertRequest,
} from '../common/contract';

// How one side's alert is written on the other side: the same fields the contract §6 invariant compares.

export function dpsCreateFromNomis(alert: NomisAlert): CreateDpsAlertRequest {
  return {
    alertCode: alert.alertCode.code,
    description: alert.comment ?? null,
    authorisedBy: alert.authorisedBy ?? null,
    activeFrom: alert.date,
    activeTo: alert.expiryDate ?? null,
    isActive: alert.isActive,
    createdAt: alert.audit.createDatetime,
    createdBy: alert.audit.createUsername,
    createdByDisplayName: alert.audit.createUsername,
  };
}

export function dpsUpdateFromNomis(alert: NomisAlert): UpdateDpsAlertRequest {
  return {
    description: alert.comment ?? null,
    authorisedBy: alert.authorisedBy ?? null,
    activeFrom: alert.date,
    activeTo: alert.expiryDate ?? null,
    isActive: alert.isActive,
    ...(alert.audit.modifyDatetime ? { updatedAt: alert.audit.modifyDatetime } : {}),
    ...(alert.audit.modifyUserId
      ? { updatedBy: alert.audit.modifyUserId, updatedByDisplayName: alert.audit.modifyUserId }
      : {}),
  };
}

export function nomisCreateFromDps(alert: DpsAlert): CreateNomisAlertRequest {
  return {
    alertCode: alert.alertCode.code,
    date: alert.activeFrom,
    isActive: alert.isActive,
    expiryDate: alert.activeTo ?? null,
    comment: alert.description ?? null,
    authorisedBy: alert.authorisedBy ?? null,
    createUsername: alert.createdBy,
  };
}

export function nomisUpdateFromDps(alert: DpsAlert): UpdateNomisAlertRequest {
  return {
    date: alert.activeFrom,
    isActive: alert.isActive,
    expiryDate: alert.activeTo ?? null,
    comment: alert.description ?? null,
    authorisedBy: alert.authorisedBy ?? null,
    updateUsername: alert.lastModifiedBy ?? alert.createdBy,
  };
}
