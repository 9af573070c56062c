; Lanewatch for Windows: a per-user installer (no administrator needed).
; Compiled by packaging/build.py nsis:
;   makensis -DVERSION=0.1.0 -DPAYLOAD=dist\lanewatch -DOUTFILE=dist\lanewatch-0.1.0-setup.exe -DICON=build\icons\lanewatch.ico lanewatch.nsi
; Silent install for a practice's IT: lanewatch-0.1.0-setup.exe /S [/STORE=postgresql://user@server:5432/lanewatch]
Unicode true
!include "MUI2.nsh"
!include "nsDialogs.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"

!ifndef VERSION
  !error "VERSION is not defined (-DVERSION=...)"
!endif
!ifndef PAYLOAD
  !error "PAYLOAD is not defined: the folder PyInstaller made (-DPAYLOAD=...)"
!endif
!ifndef OUTFILE
  !define OUTFILE "lanewatch-${VERSION}-setup.exe"
!endif

!define APP "Lanewatch"
!define APP_ID "org.lanewatch.Lanewatch"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_ID}"
; where Lanewatch reads its settings (platformdirs' user config folder, core/workstation.py)
!define SETTINGS "$LOCALAPPDATA\lanewatch\lanewatch.ini"

Name "${APP} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP}"
InstallDirRegKey HKCU "Software\${APP}" "InstallDir"
RequestExecutionLevel user
SetCompressor /SOLID lzma
ManifestDPIAware true
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APP}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APP} installer"
VIAddVersionKey "LegalCopyright" "The Lanewatch authors (MIT)"

!ifdef ICON
  !define MUI_ICON "${ICON}"
  !define MUI_UNICON "${ICON}"
!endif
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\lanewatchw.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start Lanewatch"

Var StoreUrl
Var StoreField

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
Page custom StorePage StorePageLeave
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/STORE=" $StoreUrl
FunctionEnd

; optional: the go-live team's shared store, so that the first start opens it
Function StorePage
  !insertmacro MUI_HEADER_TEXT "Shared store (optional)" "Leave empty to keep a store on this workstation only."
  nsDialogs::Create 1018
  Pop $0
  ${NSD_CreateLabel} 0 0 100% 36u "If your team keeps Lanewatch's queue and audit trail on a PostgreSQL server, enter its address. The password is asked for, and kept in the Windows Credential Manager, when Lanewatch first opens it."
  Pop $0
  ${NSD_CreateLabel} 0 42u 100% 10u "Store URL, for example postgresql://you@db.practice.example:5432/lanewatch"
  Pop $0
  ${NSD_CreateText} 0 54u 100% 12u "$StoreUrl"
  Pop $StoreField
  nsDialogs::Show
FunctionEnd

Function StorePageLeave
  ${NSD_GetText} $StoreField $StoreUrl
  ${If} $StoreUrl != ""
    StrCpy $0 $StoreUrl 13
    ${If} $0 != "postgresql://"
      MessageBox MB_ICONEXCLAMATION "A shared store's URL starts with postgresql:// (or leave the field empty)."
      Abort
    ${EndIf}
  ${EndIf}
FunctionEnd

Section "Lanewatch" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File /r "${PAYLOAD}\*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\lanewatchw.exe" "" "$INSTDIR\lanewatchw.exe" 0
  ${If} $StoreUrl != ""
    CreateDirectory "$LOCALAPPDATA\lanewatch"
    WriteINIStr "${SETTINGS}" "store" "url" "$StoreUrl"
  ${EndIf}
  WriteRegStr HKCU "Software\${APP}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "The Lanewatch authors"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\lanewatchw.exe"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" $0
SectionEnd

; the program goes; the store, the settings and the logs in $LOCALAPPDATA\lanewatch stay (they hold the audit trail)
Section "Uninstall"
  Delete "$SMPROGRAMS\${APP}.lnk"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\lanewatch.exe"
  Delete "$INSTDIR\lanewatchw.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  DeleteRegKey HKCU "Software\${APP}"
SectionEnd
